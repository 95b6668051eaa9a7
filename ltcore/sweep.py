"""Sweeps: a grid of methods × ratios × seeds over one base config, summarised as mean ± std
over seeds (reproductions vary by ±1–2 points with the seed that picks the subset)."""
from __future__ import annotations

import itertools
import statistics

from .config import Config

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
