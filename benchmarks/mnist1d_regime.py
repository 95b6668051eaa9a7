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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ltcore.config import Config  # noqa: E402
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
    spec = TableSpec(f"regime-{regime}", dataset, tuple(ratios), None, "quick", tuple(fields.items()),
                     eval_every=fields["epochs"], method_params=base.method_params)
    configs = table_configs(spec, seeds, dataset, None, methods, ratios, None, "cpu")
    configs = [c.replace(precision="fp32") for c in configs]
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


def report(args) -> None:
    from ltcore.metrics.statistics import format_regime_report

    with open(args.csv, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["balanced"]]
    print(format_regime_report(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regimes", default="resnet1d_noisy", help=f"comma-separated: {', '.join(REGIMES)}")
    parser.add_argument("--methods", default=None, help="comma-separated presets (default: every trainable one)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ratios", default="100,50")
    parser.add_argument("--worker", default="0/1", help="i/N: train every N-th run starting at i")
    parser.add_argument("--csv", default="/tmp/stats-study/runs.csv")
    parser.add_argument("--report", action="store_true", help="print the tables of the CSV, train nothing")
    args = parser.parse_args()
    report(args) if args.report else run(args)


if __name__ == "__main__":
    main()
