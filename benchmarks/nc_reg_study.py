"""Why does `nc_reg` (Liu et al. AISTATS'23) beat `ce` or not? A small, reproducible study.

Trains `ce` and `nc_reg` variants on the same long-tailed data and seeds (one CPU thread per run)
and prints mean ± std over seeds of balanced and few-shot test accuracy, the paired difference to
`ce` (same seed, same data, same initial weights), and Papyan's NC1 of the trained features (lower
= more collapsed), so one sees whether the regulariser changed the geometry and whether that paid.

The variants vary what might decide the outcome: the weights λ1 (NC1) and λ2 (NC2) of the terms, the
NC2 variant (the authors' default `v0`, each class's smallest angle averaged, against `v1`, the
single smallest angle), the schedule (`nc_start`: the terms join after some epochs of plain CE),
and the authors' optimiser recipe (5 warm-up epochs, weight decay 5e-4, Pepper-lll/NCfeature
`train.py` lines 83, 242-245) for `ce` and `nc_reg` alike.

    python benchmarks/nc_reg_study.py                  # digits ρ=100, 20 epochs, 5 seeds, full grid
    python benchmarks/nc_reg_study.py --lambdas 0.1:100,0.03:30 --only 'l1=0.1,l2=100;l1=0.03,l2=30'
    python benchmarks/nc_reg_study.py --epochs 100 --seeds 3 --only 'default;l1=0.1,l2=10'
    python benchmarks/nc_reg_study.py --dataset mnist1d --seeds 3 --lambdas 0.1:100 \
        --only "default;l1=0.01,l2=10;l1=0.1,l2=10;l1=0.1,l2=100;nc2=min_angle;start=0.5·E"
    (MNIST-1D: 60 epochs, as in the whole-preset table of docs/reproducing.md; about 45 s a run on one thread)

docs/methods.md, "`nc_reg` against `ce`", holds the measured tables and what they mean.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from ltcore.config import Config  # noqa: E402
from ltcore.engine.trainer import Trainer, prepare_data  # noqa: E402

AUTHORS_RECIPE = {"warmup_epochs": 5, "weight_decay": 5e-4}
"""Pepper-lll/NCfeature train.py: `--wd 5e-4` (line 83), lr warm-up over 5 epochs (lines 242-245)."""


def variants(grid: str, extra: list[tuple[float, float]] = ()) -> list[tuple[str, str, dict, dict]]:
    """(label, method, method params, config overrides) of the study; `extra` adds (λ1, λ2) pairs."""
    rows = [("ce", "ce", {}, {}), ("default", "nc_reg", {}, {})]
    lambdas = [(l1, l2) for l1 in (0.01, 0.1, 1.0) for l2 in (0.0, 0.1, 1.0, 10.0)
               if (l1, l2) != (0.01, 0.1)]
    if grid == "short":
        lambdas = [(0.1, 1.0), (0.1, 10.0)]
    lambdas += [pair for pair in extra if pair not in lambdas]
    rows += [(f"l1={l1:g},l2={l2:g}", "nc_reg", {"lambda1": l1, "lambda2": l2}, {}) for l1, l2 in lambdas]
    rows += [("nc2=min_angle", "nc_reg", {"regularizer": "nc_min_angle"}, {})]
    if grid != "short":
        rows += [("nc2=min_angle,l1=0.1,l2=1", "nc_reg",
                  {"regularizer": "nc_min_angle", "lambda1": 0.1, "lambda2": 1.0}, {})]
    starts = (0.25, 0.5) if grid != "short" else (0.5,)
    rows += [(f"start={s:g}·E", "nc_reg", {"nc_start": s}, {}) for s in starts]
    rows += [("ce+authors' recipe", "ce", {}, AUTHORS_RECIPE),
             ("default+authors' recipe", "nc_reg", {}, AUTHORS_RECIPE)]
    return rows


def run_one(dataset, ratio, epochs, seed, method, params, overrides, data_cache) -> dict:
    params = dict(params)
    if isinstance(params.get("nc_start"), float):        # a fraction of the epochs
        params["nc_start"] = int(round(params["nc_start"] * epochs))
    config = Config(dataset=dataset, ratio=ratio, epochs=epochs, seed=seed, method=method,
                    method_params=params, device="cpu", **overrides).validate()
    key = (dataset, ratio, seed)
    if key not in data_cache:
        data_cache[key] = prepare_data(config)
    result = Trainer(config, data=data_cache[key], save_checkpoints=False).fit()
    m = result.metrics
    nc = result.extras.get("neural_collapse") or {}
    return {"balanced": m["balanced_acc"], "few": m["shot_acc"]["few"], "many": m["shot_acc"]["many"],
            "nc1": nc.get("nc1"), "status": result.status}


def mean_std(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):5.1f} ± {100 * sd:4.1f}"


def table(results: dict, seeds: list[int]) -> str:
    base = results.get("ce")
    lines = [f"{'variant':<28} {'balanced %':>13} {'few-shot %':>13} {'Δbal vs ce':>13} {'wins':>5} {'NC1':>7}",
             "-" * 84]
    for label, runs in results.items():
        bal = [r["balanced"] for r in runs]
        few = [r["few"] for r in runs]
        nc1 = [r["nc1"] for r in runs if r["nc1"] is not None]
        if base and label != "ce":
            diff = [a - b for a, b in zip(bal, (r["balanced"] for r in base))]
            delta = (f"{100 * statistics.mean(diff):+5.1f} ± "
                     f"{100 * (statistics.stdev(diff) if len(diff) > 1 else 0):3.1f}")
            wins = f"{sum(d > 0 for d in diff)}/{len(diff)}"
        else:
            delta, wins = "", ""
        lines.append(f"{label:<28} {mean_std(bal):>13} {mean_std(few):>13} {delta:>13} {wins:>5} "
                     f"{statistics.mean(nc1) if nc1 else float('nan'):7.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits")
    p.add_argument("--ratio", type=float, default=100.0)
    p.add_argument("--epochs", type=int, default=None,
                   help="default: 20 on digits (the dashboard's and lesson 6's), 60 on mnist1d (the preset table's)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--grid", choices=("full", "short"), default="full")
    p.add_argument("--lambdas", default="", help="extra λ1:λ2 pairs, comma-separated, e.g. 0.1:30,0.3:30")
    p.add_argument("--only", default="", help="variant labels separated by ';' (ce is always run)")
    p.add_argument("--json", default=None, help="also write every run's numbers here")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 60 if args.dataset == "mnist1d" else 20
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    extra = [tuple(float(v) for v in pair.split(":")) for pair in args.lambdas.split(",") if pair.strip()]
    rows = variants(args.grid, extra)
    if args.only:
        wanted = {"ce", *(label.strip() for label in args.only.split(";"))}
        rows = [r for r in rows if r[0] in wanted]
    seeds = list(range(args.seeds))
    cache, results = {}, {}
    start = time.perf_counter()
    for label, method, params, overrides in rows:
        results[label] = [run_one(args.dataset, args.ratio, args.epochs, s, method, params, overrides, cache)
                          for s in seeds]
        print(f"  {label}: {mean_std(r['balanced'] for r in results[label])} "
              f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    print(f"{args.dataset} ρ={args.ratio:g}, {args.epochs} epochs, seeds {seeds}, torch threads 1; "
          f"mean ± std over seeds; Δ = paired difference to ce (same seed); wins = seeds where the "
          f"variant's balanced accuracy beats ce's; NC1 = Tr(Σ_W Σ_B⁺)/K of the trained training features")
    print(table(results, seeds))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
