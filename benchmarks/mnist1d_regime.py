"""The MNIST-1D-LT benchmark regime study (issue: an offline table that agrees with the field).

Trains presets under candidate regimes — a few global choices (model, schedule, epochs, data
difficulty) applied to every preset alike, each method at its authors' CIFAR defaults — and writes
one CSV row per finished run (resumable: rows already there are skipped). `--report` prints, per
regime and ratio, each preset's balanced accuracy (mean ± std, paired 95 % interval of its
difference to `ce` over seeds, rank and its range over seeds), the "above ce" count among the presets
whose published CIFAR-10-LT value beats CE, and Spearman r_s against the published values.

    # the pilot: 5 presets × 2 regimes × 3 seeds at ρ = 100
    nice -n 19 python benchmarks/mnist1d_regime.py --regimes resnet1d,resnet1d_noisy \
        --methods ce,balanced_softmax,ldam_drw,mixup,cbs --seeds 0,1,2 --ratios 100
    # the whole-preset table of the chosen regime (two processes share the list)
    nice -n 19 python benchmarks/mnist1d_regime.py --regimes resnet1d_noisy --seeds 0,1,2 \
        --ratios 100,50 --worker 0/2 &
    python benchmarks/mnist1d_regime.py --report --csv /tmp/stats-study/runs.csv

Each run uses one CPU thread (torch.set_num_threads(1)); `cpu_s` in the CSV is the process CPU
time of the run (the cost per run on one core).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ltcore.config import Config  # noqa: E402
from ltcore.metrics.statistics import (mean_interval, paired_difference, rank_ranges, spearman,  # noqa: E402
                                       verdict)
from ltcore.reproduce.tables import load_published  # noqa: E402
from ltcore.recipes import RECIPES  # noqa: E402

CNN_QUICK = {"model": "cnn1d", "epochs": 60, "schedule": "cosine", "augment": "none"}
REGIMES = {
    "cnn1d_quick": ("mnist1d", CNN_QUICK),
    "resnet1d": ("mnist1d", dict(RECIPES.get("resnet1d_ldam").obj)),
    "resnet1d_noisy": ("mnist1d_noisy", dict(RECIPES.get("resnet1d_ldam").obj)),
}
"""regime → (data set, Config fields): the former table's recipe and the two candidates."""

FIELDS = ("regime", "dataset", "ratio", "method", "seed", "balanced", "many", "medium", "few", "train_acc",
          "epochs", "cpu_s", "wall_s", "run_id", "status")


def regime_configs(regime: str, methods, seeds, ratios) -> list[Config]:
    """Every (ratio, seed, method) of a regime as Configs via the reproduce table machinery (kd/bkd
    taught by the regime's own ce run), seed-major (then ratio, ce first) so that whole seeds finish
    first and a teacher before its students."""
    from ltcore.reproduce.tables import TABLES, TableSpec, table_configs

    dataset, fields = REGIMES[regime]
    base = TABLES["mnist1d-lt"]
    fields = {**fields, "precision": "fp32"}  # before the table machinery: kd/bkd name their teacher's run id
    spec = TableSpec(f"regime-{regime}", dataset, tuple(ratios), None, "quick", tuple(fields.items()),
                     eval_every=fields["epochs"], method_params=base.method_params)
    configs = table_configs(spec, seeds, dataset, None, methods, ratios, None, "cpu")
    return sorted(configs, key=lambda c: (c.seed, -c.ratio, c.method != "ce"))


def done_keys(path: Path) -> set:
    if not path.exists():
        return set()
    with open(path, newline="") as fh:
        return {(r["regime"], float(r["ratio"]), r["method"], int(r["seed"])) for r in csv.DictReader(fh)}


def train_one(config: Config, store) -> dict:
    """Train one config through the run store (a kd teacher is found there); its row for the CSV."""
    from ltcore.runs.execute import execute

    _, run_id = store.claim(config, os.getpid(), force=True)
    store.mark_running(run_id, os.getpid(), force=True)
    cpu, wall = time.process_time(), time.time()
    result = execute(store, run_id, save_checkpoints=config.method == "ce")
    row = {"run_id": run_id, "cpu_s": round(time.process_time() - cpu, 1), "wall_s": round(time.time() - wall, 1)}
    if result is None:
        return {**row, "status": (store.get(run_id) or {}).get("error", "failed")[:200]}
    hist = [h for h in result.history if h.get("train_acc") is not None]
    shot = result.shot_acc
    pct = lambda v: None if v is None else round(100 * v, 2)  # noqa: E731
    return {**row, "status": result.status, "balanced": pct(result.balanced_acc), "many": pct(shot.get("many")),
            "medium": pct(shot.get("medium")), "few": pct(shot.get("few")),
            "train_acc": pct(hist[-1]["train_acc"]) if hist else None, "epochs": result.epochs_completed}


def run(args) -> None:
    from ltcore.runs.store import RunStore

    torch.set_num_threads(1)
    out = Path(args.csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    store = RunStore(Path(os.environ.get("LTLAB_DATA", "/tmp/ltlab-regime")) / "runs.sqlite")
    index, count = (int(v) for v in args.worker.split("/"))
    methods = args.methods.split(",") if args.methods else None
    seeds = [int(s) for s in args.seeds.split(",")]
    ratios = [float(r) for r in args.ratios.split(",")]
    for regime in args.regimes.split(","):
        todo = regime_configs(regime, methods, seeds, ratios)
        for i, cfg in enumerate(todo):
            if i % count != index or (regime, cfg.ratio, cfg.method, cfg.seed) in done_keys(out):
                continue
            teacher = dict(cfg.method_params).get("kd_teacher")
            while teacher and not (store.get(teacher) or {}).get("has_result"):
                time.sleep(10)  # the other worker trains the teacher
            row = {"regime": regime, "dataset": cfg.dataset, "ratio": cfg.ratio, "method": cfg.method,
                   "seed": cfg.seed, **train_one(cfg, store)}
            new = not out.exists()
            with open(out, "a", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
                if new:
                    writer.writeheader()
                writer.writerow(row)
            print(f"{regime} ρ={cfg.ratio:g} {cfg.method} seed {cfg.seed}: {row.get('balanced')} "
                  f"({row['cpu_s']} s CPU)", flush=True)


def balanced_scores(rows: list[dict], regime: str, ratio: float) -> dict:
    """Method → {seed: balanced %} of one regime and ratio in the run CSV's rows."""
    scores: dict = {}
    for r in rows:
        if r["regime"] == regime and float(r["ratio"]) == ratio:
            scores.setdefault(r["method"], {})[int(r["seed"])] = float(r["balanced"])
    return scores


def _numbers(values) -> list[float]:
    return [float(v) for v in values if v not in (None, "")]


def format_regime_report(rows: list[dict]) -> str:
    """The regime study's report (benchmarks/mnist1d_regime.py): rows of the run CSV (regime, ratio,
    method, seed, balanced, …) → per regime and ratio a Markdown table, ranked by mean balanced
    accuracy, with ± std, the 95 % t interval, the paired difference to `ce`, rank (range over
    seeds), the published CIFAR-10-LT value; then the "above ce" count and Spearman r_s."""
    published = load_published()
    lines = []
    for regime, ratio in sorted({(r["regime"], float(r["ratio"])) for r in rows}, key=lambda k: (k[0], -k[1])):
        block = [r for r in rows if r["regime"] == regime and float(r["ratio"]) == ratio]
        scores = balanced_scores(block, regime, ratio)
        ranks = rank_ranges(scores)
        base = scores.get("ce", {})
        order = sorted(scores, key=lambda m: ranks[m].rank)
        cpu = [float(r["cpu_s"]) for r in block if r.get("cpu_s")]
        lines += [f"### {regime}, ρ = {ratio:g}", "",
                  "| rank (range) | method | balanced % | 95 % interval | Δ vs ce (paired 95 %) | few % | "
                  "train % | seeds | CIFAR-10-LT published |", "|---|---|---|---|---|---|---|---|---|"]
        for m in order:
            vals = list(scores[m].values())
            ci = mean_interval(vals)
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            diff = paired_difference({s: v / 100 for s, v in scores[m].items()},
                                     {s: v / 100 for s, v in base.items()}) if m != "ce" else None
            few = _numbers(r["few"] for r in block if r["method"] == m and r.get("few"))
            train = _numbers(r["train_acc"] for r in block if r["method"] == m and r.get("train_acc"))
            pub = published.get(("cifar10-lt", ratio, m))
            cells = [ranks[m].label(), m, f"{ci.estimate:.2f} ± {sd:.2f}",
                     f"[{ci.low:.2f}, {ci.high:.2f}]" if ci.low is not None else "—",
                     verdict(diff) if diff else "—",
                     f"{statistics.fmean(few):.1f}" if few else "—",
                     f"{statistics.fmean(train):.1f}" if train else "—", str(len(vals)),
                     f"{pub.top1:.2f}" if pub else "—"]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [""] + regime_summary(scores, ratio, published)
        if cpu:
            lines.append(f"CPU time per run (one thread): median {statistics.median(cpu):.0f} s, "
                         f"max {max(cpu):.0f} s over {len(cpu)} runs.")
        lines.append("")
    return "\n".join(lines)


def regime_summary(scores: dict, ratio: float, published: dict, table: str = "cifar10-lt") -> list[str]:
    """The "above ce" count (of the presets whose published value beats CE's) and Spearman r_s
    against the published values, for the means over seeds in `scores` (name → {seed: value})."""
    base_pub = published.get((table, ratio, "ce"))
    means = {m: statistics.fmean(v.values()) for m, v in scores.items() if v}
    if "ce" not in means or base_pub is None:
        return ["(no ce row or no published ce value: no above-ce count)"]
    better = [m for m in means if m != "ce" and (p := published.get((table, ratio, m))) and p.top1 > base_pub.top1]
    above = [m for m in better if means[m] > means["ce"]]
    both = [m for m in means if published.get((table, ratio, m))]
    rs = (spearman([means[m] for m in both], [published[(table, ratio, m)].top1 for m in both])
          if len(both) >= 3 else None)
    out = [f"Above ce: {len(above)} of the {len(better)} presets here whose published CIFAR-10-LT ρ={ratio:g} value "
           f"beats CE's ({', '.join(sorted(set(better) - set(above))) or 'none'} below)."]
    if rs is not None:
        out.append(f"Spearman r_s against the published values over the {len(both)} presets that have one: {rs:+.2f}.")
    return out


def format_side_by_side(rows: list[dict], regime: str) -> str:
    """One regime's ratios side by side (the README's table): per preset, ordered by the first
    ratio's mean, balanced accuracy mean ± std and the paired 95 % difference to `ce` at each ratio
    (marked "≈" when the interval contains 0: not distinguishable at these seeds), and the published
    CIFAR-10-LT value of the first ratio; then each ratio's "above ce" count and Spearman r_s."""
    published = load_published()
    ratios = sorted({float(r["ratio"]) for r in rows if r["regime"] == regime}, reverse=True)
    scores = {ratio: balanced_scores(rows, regime, ratio) for ratio in ratios}
    first = scores[ratios[0]]
    order = sorted(first, key=lambda m: -statistics.fmean(first[m].values()))
    order += sorted({m for ratio in ratios[1:] for m in scores[ratio]} - set(order))
    head = "| method | " + " | ".join(f"ρ = {ratio:g}: balanced % | Δ vs ce (95 %)" for ratio in ratios)
    lines = [head + f" | CIFAR-10-LT ρ = {ratios[0]:g} published |",
             "|---|" + "---|---|" * len(ratios) + "---|"]
    for m in order:
        cells = [m]
        for ratio in ratios:
            vals = scores[ratio].get(m, {})
            if not vals:
                cells += ["—", "—"]
                continue
            sd = statistics.stdev(vals.values()) if len(vals) > 1 else 0.0
            few = f" ({len(vals)} seed{'s' * (len(vals) > 1)})" if len(vals) < 3 else ""
            cells.append(f"{statistics.fmean(vals.values()):.1f} ± {sd:.1f}{few}")
            diff = paired_difference({k: v / 100 for k, v in vals.items()},
                                     {k: v / 100 for k, v in scores[ratio].get("ce", {}).items()})
            if m == "ce" or diff is None:
                cells.append("—")
            elif diff.low is None:
                cells.append(f"{100 * diff.estimate:+.1f}")
            else:
                cells.append(f"{100 * diff.estimate:+.1f} [{100 * diff.low:+.1f}, {100 * diff.high:+.1f}]"
                             + ("" if diff.distinguishable else " ≈"))
        pub = published.get(("cifar10-lt", ratios[0], m))
        cells.append(f"{pub.top1:.2f}" if pub else "—")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for ratio in ratios:
        lines += [f"ρ = {ratio:g}: " + " ".join(regime_summary(scores[ratio], ratio, published))]
    return "\n".join(lines)


def report(args) -> None:
    with open(args.csv, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["balanced"]]
    print(format_side_by_side(rows, args.regimes.split(",")[0]) if args.side_by_side else format_regime_report(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regimes", default="resnet1d_noisy", help=f"comma-separated: {', '.join(REGIMES)}")
    parser.add_argument("--methods", default=None, help="comma-separated presets (default: every trainable one)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ratios", default="100,50")
    parser.add_argument("--worker", default="0/1", help="i/N: train every N-th run starting at i")
    parser.add_argument("--csv", default="/tmp/stats-study/runs.csv")
    parser.add_argument("--report", action="store_true", help="print the tables of the CSV, train nothing")
    parser.add_argument("--side-by-side", action="store_true",
                        help="with --report: the first of --regimes with its ratios side by side (the README's table)")
    args = parser.parse_args()
    report(args) if args.report else run(args)


if __name__ == "__main__":
    main()
