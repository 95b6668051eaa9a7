"""A table's report: rows of ours (mean ± std over seeds) beside the published values, as Markdown
(per-ratio blocks, or the whole-preset ranking with its Spearman agreement) and CSV, and the CSVs
written before (what the dashboard's Reproduced view reads)."""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..metrics.statistics import (NOT_DISTINGUISHABLE, mean_interval, paired_difference, rank_ranges, spearman,
                                  verdict)
from .tables import PUBLISHED_FILE, REFERENCE_LABEL, TableSpec, load_published


def summarise(spec: TableSpec, configs: list[Config], outcomes: dict, published_for: str | None,
              reference: str | None = None) -> list[dict]:
    """One row per (ratio, method): our mean ± std (top-1 % on the balanced test set) over the seeds
    that finished, the shot groups (mean ± std), the published value and ours − published.

    `outcomes`: run config id → RunResult or an error string. `published_for`: the table whose
    published column applies (None: another data set was trained, the column stays empty).
    `reference`: a published table whose value at the same ratio is shown for the ordering only."""
    from ..methods import PRESETS

    published = load_published() if published_for or reference else {}
    groups: dict[tuple, list] = {}
    for cfg in configs:
        groups.setdefault((cfg.ratio, cfg.method), []).append(cfg)
    rows = []
    for (ratio, method), cfgs in groups.items():
        results = [outcomes.get(c.run_id) for c in cfgs]
        done = [r for r in results if r is not None and not isinstance(r, str)]
        errors = [r for r in results if isinstance(r, str)]
        acc = [100 * r.balanced_acc for r in done if r.balanced_acc is not None]
        by_seed = {c.seed: 100 * r.balanced_acc for c, r in zip(cfgs, results)
                   if r is not None and not isinstance(r, str) and r.balanced_acc is not None}
        ci = mean_interval(acc)
        pub = published.get((published_for, float(ratio), method)) if published_for else None
        ref = published.get((reference, float(ratio), method)) if reference else None
        mean, std = _mean_std(acc)
        row = {"table": spec.name, "dataset": cfgs[0].dataset, "ratio": ratio, "method": method,
               "family": PRESETS.get(method).meta.get("family", ""),
               "epochs": cfgs[0].epochs, "seeds": len(acc), "seeds_asked": len(cfgs),
               "ours_mean": mean, "ours_std": std,
               "ours_low": _r(ci.low) if ci else None, "ours_high": _r(ci.high) if ci else None,
               "by_seed": by_seed,
               "published": pub.top1 if pub else None,
               "delta": _r(mean - pub.top1) if pub and mean is not None else None,
               "source": pub.source if pub else "", "checked": pub.checked if pub else "",
               "reference": f"{reference} ρ={ratio:g}" if reference else "",
               "reference_published": ref.top1 if ref else None}
        for group in ("many", "medium", "few"):
            vals = [100 * r.shot_acc[group] for r in done if r.shot_acc.get(group) is not None]
            row[f"{group}_mean"], row[f"{group}_std"] = _mean_std(vals)
        row["wall_seconds"] = _r(sum(r.wall_seconds for r in done))
        row["error"] = errors[0] if errors else ""
        rows.append(row)
    for ratio in {r["ratio"] for r in rows}:
        block = [r for r in rows if r["ratio"] == ratio]
        ranks = rank_ranges({r["method"]: r["by_seed"] for r in block})
        for r in block:
            rank = ranks.get(r["method"])
            r["rank"] = rank.label() if rank else ""
    return rows


def _interval(row) -> str:
    """'[70.12, 72.40]' (the 95 % t interval over seeds), or — for fewer than two seeds."""
    return "—" if row.get("ours_low") is None else f"[{row['ours_low']:.2f}, {row['ours_high']:.2f}]"


def folder_note(spec: TableSpec, split, path: str, same_classes: bool) -> str:
    """The line under a table trained on an image folder: which images, and why its numbers are not
    the pickled data set's."""
    n_val = len(split.y_val)
    kind = (f"the classes of {spec.dataset}: published column shown for orientation, but these are image "
            f"files (JPEG files are lossy re-encodings), not the original pickled {spec.dataset} arrays"
            if same_classes else f"not the classes of {spec.dataset}: no published column")
    return (f"Data: image folder {path} — test set = its test/ ({len(split.y_test)} images); "
            f"{n_val} validation images held out of train/ before the long-tailed draw "
            f"(pool {len(split.y_train)}); {kind}.")


def with_note(markdown: str, note: str) -> str:
    """`note` as a paragraph under the table's heading line."""
    head, _, rest = markdown.partition("\n")
    return f"{head}\n\n{note}\n{rest}"


def _mean_std(values: list) -> tuple:
    """(mean, sample std) rounded to 0.01; std 0 for one value; (None, None) for none."""
    if not values:
        return None, None
    return _r(statistics.fmean(values)), (_r(statistics.stdev(values)) if len(values) > 1 else 0.0)


def _r(x, digits: int = 2):
    return None if x is None else round(float(x), digits)


def _cell(value, std=None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} ± {std:.2f}" if std is not None else f"{value:.2f}"


def format_markdown(spec: TableSpec, rows: list[dict], title: str) -> str:
    """Methods as rows; per ratio: ours (mean ± std, n), published, Δ; sources listed below."""
    ratios = sorted({r["ratio"] for r in rows}, reverse=True)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    by = {(r["ratio"], r["method"]): r for r in rows}
    head = ["method"] + [h for q in ratios for h in (f"ρ={q:g} ours", f"ρ={q:g} published", f"ρ={q:g} Δ")]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in methods:
        cells = [m]
        for q in ratios:
            r = by.get((q, m))
            if r is None:
                cells += ["", "", ""]
                continue
            ours = _cell(r["ours_mean"], r["ours_std"]) + (f" (n={r['seeds']})" if r["seeds"] else "")
            if r.get("ours_low") is not None:
                ours += f" {_interval(r)}, rank {r['rank']}"
            if r["ours_mean"] is None and r["error"]:
                ours = "failed"
            cells += [ours, _cell(r["published"]), "—" if r["delta"] is None else f"{r['delta']:+.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    sources = {r["source"] for r in rows if r["source"]}
    if sources:
        lines += ["", "Published values (top-1 %, balanced test set) and where they come from: "
                  f"`ltcore/{PUBLISHED_FILE.name}` — " + "; ".join(sorted(sources)) + "."]
    else:
        lines += ["", "No published column: this data set has no published numbers for this table."]
    lines += ["", "Ours: balanced top-1 % mean ± sample std over n seeds, its 95 % t interval, and its rank among "
              "the ratio's methods (best–worst when each seed is ranked alone: overlapping ranges are ties)."]
    failed = [f"{r['method']} ρ={r['ratio']:g}: {r['error']}" for r in rows if r["error"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(failed)]
    return "\n".join(lines)


def format_preset_table(spec: TableSpec, rows: list[dict], title: str, skipped: dict | None = None) -> str:
    """The whole-preset table: per ratio, methods ranked by our balanced accuracy, each with many /
    medium / few (mean ± std over seeds) and the reference table's published value at that ratio
    with its rank among the presets that have one; then how well the two orders agree, and the
    presets left out (`skipped`: name → why)."""
    label = REFERENCE_LABEL.get(spec.reference, spec.reference or "")
    lines = [f"### {title}"]
    for ratio in sorted({r["ratio"] for r in rows}, reverse=True):
        block = sorted((r for r in rows if r["ratio"] == ratio),
                       key=lambda r: (r["ours_mean"] is None, -(r["ours_mean"] or 0.0)))
        refs = sorted({r["reference_published"] for r in block if r["reference_published"] is not None},
                      reverse=True)
        head = ["rank (range)", "method", "family", "balanced %", "95 % interval", "Δ vs ce (paired 95 %)", "many %",
                "medium %", "few %", "seeds", f"{label} ρ={ratio:g} published (rank)"]
        base = next((r["by_seed"] for r in block if r["method"] == "ce"), None)
        lines += ["", f"ρ = {ratio:g}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, r in enumerate(block, 1):
            ref = r["reference_published"]
            ranked = "—" if ref is None else f"{ref:.2f} (#{refs.index(ref) + 1})"
            failed = r["ours_mean"] is None and r["error"]
            diff = (paired_difference({s: v / 100 for s, v in r["by_seed"].items()},
                                      {s: v / 100 for s, v in base.items()})
                    if base is not None and r["method"] != "ce" else None)
            cells = [r["rank"] if r["ours_mean"] is not None else "", r["method"], r["family"],
                     "failed" if failed else _cell(r["ours_mean"], r["ours_std"]), _interval(r),
                     verdict(diff) if diff else "—",
                     _cell(r["many_mean"], r["many_std"]), _cell(r["medium_mean"], r["medium_std"]),
                     _cell(r["few_mean"], r["few_std"]), f"{r['seeds']}/{r['seeds_asked']}", ranked]
            lines.append("| " + " | ".join(cells) + " |")
        both = [r for r in block if r["ours_mean"] is not None and r["reference_published"] is not None]
        if len(both) >= 3:
            rs = spearman([r["ours_mean"] for r in both], [r["reference_published"] for r in both])
            lines += ["", f"Order agreement with the published {label} ρ={ratio:g} values over the "
                      f"{len(both)} presets that have one: Spearman r_s = {rs:+.2f}."]
        ce_row = next((r for r in block if r["method"] == "ce"), None)
        if ce_row and ce_row["ours_mean"] is not None and ce_row["reference_published"] is not None:
            better = [r for r in both
                      if r["method"] != "ce" and r["reference_published"] > ce_row["reference_published"]]
            above = [r for r in better if r["ours_mean"] > ce_row["ours_mean"]]
            lines += [f"Above ce: {len(above)} of the {len(better)} presets whose published {label} value beats CE's "
                      "score above ce here (mean over seeds)."]
    lines += ["", "Rank: by the mean over seeds, (best–worst) when each seed is ranked alone (overlapping ranges "
              "are ties); 95 % interval: t over seeds; Δ vs ce: mean paired difference over seeds in points with its "
              f"95 % t interval, marked \"{NOT_DISTINGUISHABLE}\" when it contains 0.",
              "", f"Balanced and per-group top-1 % on the balanced test set, mean ± std over seeds; many / "
              "medium / few: classes with > 100 / 20–100 / < 20 training samples. "
              f"The {label} column is another data set's published number (`ltcore/{PUBLISHED_FILE.name}`, "
              "with sources), shown only for the ordering: no difference is taken."]
    if skipped:
        lines += ["", "Not in this table (cannot train on this data set): "
                  + "; ".join(f"{m}: {why}" for m, why in skipped.items())]
    failed = [f"{r['method']} ρ={r['ratio']:g}: {r['error']}" for r in rows if r["error"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(failed)]
    return "\n".join(lines)


CSV_FIELDS = ("table", "dataset", "ratio", "method", "family", "epochs", "seeds", "seeds_asked", "ours_mean",
              "ours_std", "ours_low", "ours_high", "rank", "published", "delta", "many_mean", "many_std", "medium_mean",
              "medium_std", "few_mean", "few_std", "reference", "reference_published", "wall_seconds", "source",
              "checked", "error")


def write_outputs(rows: list[dict], markdown: str, folder: Path, stem: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, csv_path = folder / f"{stem}.md", folder / f"{stem}.csv"
    md.write_text(markdown + "\n")
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return md, csv_path


def saved_tables(data_dir=None) -> list[Path]:
    """Reproduced tables written by `reproduce` (CSV files, newest first)."""
    from ..data import default_data_dir

    folder = Path(data_dir).expanduser() if data_dir else default_data_dir()
    found = list((folder / "reproduce").glob("*.csv"))
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def read_table(path: Path) -> list[dict]:
    """The rows of a reproduced table's CSV; LTError (one sentence naming the file) when it is not
    one: unreadable, empty, binary, or without the `method` column `reproduce` writes."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LTError(f"{path.name} in {path.parent} cannot be read as a reproduced table "
                      f"({getattr(exc, 'strerror', None) or type(exc).__name__}); move it out of that folder") from None
    if not rows or "method" not in rows[0]:
        raise LTError(f"{path.name} in {path.parent} is not a table `reproduce` wrote (no rows with a method "
                      "column); move it out of that folder")
    return rows
