"""What the command line prints and writes: a run's per-class table, per-epoch progress lines, and
output files (`--json`, `--csv`) checked before training and written with a one-line error."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import LTError


def print_data_warnings(data) -> None:
    """What the data loader skipped or converted lossily (unreadable, special or non-image files,
    16-bit images), one `warning:` line each on stderr: counted in the data set, said here."""
    for warning in data.split.warnings:
        sys.stderr.write(f"warning: {' '.join(str(warning).split())}\n")


def _fmt(x, pct=True) -> str:
    return "—" if x is None else (f"{100 * x:6.2f}" if pct else f"{x}")


def _ratio_text(result) -> str:
    """ρ as asked, and the ratio the data really has when they differ by more than rounding."""
    asked = result.config.ratio
    counts = [c for c in result.class_counts if c > 0]
    actual = max(counts) / min(counts) if counts else asked
    return f"ρ={asked:g}" if abs(actual - asked) <= 0.05 * asked else f"ρ={asked:g} (actual {actual:.3g})"


def render_result(result) -> str:
    """The readable table: per-class counts and accuracies, many/medium/few, wall time."""
    m = result.metrics
    lines = [f"run {result.run_id}  {result.config.dataset} {result.config.profile} {_ratio_text(result)}"
             f"  method {result.config.method}  device {result.device}  status {result.status}",
             f"{'class':>12} {'train n':>8} {'group':>7} {'test acc %':>10}"]
    for name, n, g, a in zip(result.class_names, result.class_counts, m["shot_groups"], m["per_class_acc"]):
        lines.append(f"{name[:12]:>12} {n:>8} {g:>7} {_fmt(a):>10}")
    shots = m["shot_acc"]
    lines.append(f"overall {_fmt(m['overall_acc']).strip()}%   balanced {_fmt(m['balanced_acc']).strip()}%   "
                 f"many {_fmt(shots['many']).strip()}   medium {_fmt(shots['medium']).strip()}   "
                 f"few {_fmt(shots['few']).strip()}   ({m['shot_rule']})")
    lines.append(f"train images {sum(result.class_counts)}   epochs {result.epochs_completed}   "
                 f"wall {result.wall_seconds:.2f} s")
    rel = m.get("relative_acc")
    if rel and rel.get("value") is not None:
        lines.append(f"relative accuracy {rel['value']:.3f} = {100 * rel['a_t']:.2f} / {100 * rel['a_u']:.2f} "
                     f"(upper reference: {rel['upper_reference']})")
    init = result.extras.get("init_from")
    if init:
        lines.append(f"init_from: loaded {init['loaded']} of {init.get('of', '?')} tensors from {init['path']}"
                     + (f" (kept random: {', '.join(init['skipped'][:5])})" if init.get("skipped") else ""))
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)


def print_progress(event: dict) -> None:
    """One stderr line per finished epoch (the train command's progress)."""
    if event["type"] == "epoch":
        few = event.get("few_acc")
        sys.stderr.write(f"epoch {event['epoch']:>4}/{event['epochs']}  loss {event['loss']:.4f}  "
                         f"bal acc {100 * event['balanced_acc']:.2f}%  few {_fmt(few).strip()}  "
                         f"({event['seconds']:.2f} s)\n")


def output_file_arg(path, flag: str):
    """An output file option (`--json`, `--csv`) checked before any training starts."""
    if path is None:
        return None
    target = Path(path).expanduser()
    if target.is_dir():
        raise LTError(f"{flag} {path} is a folder; give a file name, e.g. {target / 'result.json'}")
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise LTError(f"{flag} {path}: {parent} is a file, not a folder; give another file name")
    return path


def write_output(path, text: str, flag: str, kept: str) -> None:
    """Write an output file; a failure says so in one line and where the results still are."""
    try:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        Path(path).expanduser().write_text(text)
    except OSError as exc:
        raise LTError(f"cannot write {flag} {path} ({exc.strerror or exc}); {kept}") from None
    print(f"wrote {path}")
