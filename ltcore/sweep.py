"""Sweeps: a grid of methods × ratios × seeds over one base config, summarised as mean ± std
over seeds (reproductions vary by ±1–2 points with the seed that picks the subset); and relative
accuracy, which trains the balanced reference runs it needs."""
from __future__ import annotations

import itertools
import statistics

from .config import Config
from .errors import LTError
from .metrics.relative import reference_accuracy, reference_configs, relative_accuracy
from .train import train

SUMMARY_KEYS = ("overall_acc", "balanced_acc", "many", "medium", "few")


def sweep_configs(base: Config, methods: list[str], ratios: list[float], seeds: list[int]) -> list[Config]:
    """Every (method, ratio, seed) combination of `base`, validated before anything trains."""
    return [base.replace(method=m, ratio=r, seed=s, method_params=base.method_params if m == base.method else ())
            .validate() for m, r, s in itertools.product(methods, ratios, seeds)]


def _values(result) -> dict:
    shots = result.metrics["shot_acc"]
    return {"overall_acc": result.metrics["overall_acc"], "balanced_acc": result.metrics["balanced_acc"],
            **{g: shots[g] for g in ("many", "medium", "few")}}


def summarise(results) -> list[dict]:
    """One row per (method, ratio): mean and std over seeds of overall/balanced/many/medium/few."""
    groups: dict[tuple, list] = {}
    for r in results:
        groups.setdefault((r.config.method, r.config.ratio), []).append(r)
    rows = []
    for (method, ratio), runs in groups.items():
        row = {"method": method, "ratio": ratio, "seeds": len(runs),
               "wall_seconds": sum(r.wall_seconds for r in runs)}
        for key in SUMMARY_KEYS:
            vals = [v for v in (_values(r)[key] for r in runs) if v is not None]
            row[key] = statistics.fmean(vals) if vals else None
            row[f"{key}_std"] = statistics.stdev(vals) if len(vals) > 1 else 0.0 if vals else None
        rows.append(row)
    return rows


def format_summary(rows: list[dict]) -> str:
    """A readable table in percent (mean ± std over seeds)."""
    def cell(row, key):
        if row[key] is None:
            return f"{'—':>13}"
        return f"{100 * row[key]:6.2f}±{100 * row[key + '_std']:5.2f}"

    head = f"{'method':<18} {'ratio':>6} {'seeds':>5} " + " ".join(f"{k.replace('_acc', ''):>13}" for k in SUMMARY_KEYS)
    lines = [head]
    for row in rows:
        lines.append(f"{row['method']:<18} {row['ratio']:>6g} {row['seeds']:>5} "
                     + " ".join(cell(row, k) for k in SUMMARY_KEYS))
    return "\n".join(lines)


def relative_accuracy_for(result, references: dict | None = None, metric: str = "balanced_acc",
                          train_fn=None, **train_kwargs) -> dict:
    """Relative accuracy of a long-tailed `result`; references missing from `references`
    ({name: RunResult | metrics dict | float}) are trained with `train_fn` (ltcore.train.train by default)."""
    if result.config.balanced_total:
        raise LTError("relative accuracy is measured for a long-tailed run; this run is already balanced")
    refs = dict(references or {})
    plain_cfg, method_cfg = reference_configs(result.config)
    wanted = {"plain_ce_balanced": plain_cfg, "method_balanced": method_cfg}
    train_fn = train_fn or train
    by_id = {cfg.run_id: refs[name] for name, cfg in wanted.items() if name in refs}
    for name, cfg in wanted.items():
        if name not in refs:                                          # CE method: one run serves both
            if cfg.run_id not in by_id:
                by_id[cfg.run_id] = train_fn(cfg, **train_kwargs)
            refs[name] = by_id[cfg.run_id]
    out = relative_accuracy(reference_accuracy(result.metrics, metric),
                            reference_accuracy(refs["plain_ce_balanced"], metric),
                            reference_accuracy(refs["method_balanced"], metric))
    out.update({"metric": metric, "reference_run_ids": {n: c.run_id for n, c in wanted.items()}})
    return out
