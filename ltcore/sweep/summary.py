"""A sweep's numbers: mean ± std over seeds per (method, ratio) (reproductions vary by ±1–2 points
with the seed that picks the subset), and for a parameter search the best value per (method, ratio),
chosen on the validation split, with its test metrics."""
from __future__ import annotations

import statistics

from ..metrics.statistics import mean_interval, rank_ranges
from .grid import OBJECTIVE

SUMMARY_KEYS = ("overall_acc", "balanced_acc", "many", "medium", "few")


def _values(result) -> dict:
    shots = result.metrics["shot_acc"]
    return {"overall_acc": result.metrics["overall_acc"], "balanced_acc": result.metrics["balanced_acc"],
            **{g: shots[g] for g in ("many", "medium", "few")}}


def summarise(results) -> list[dict]:
    """One row per (method, ratio): mean and std over seeds of overall/balanced/many/medium/few, the
    95 % t interval of the balanced mean (`balanced_low`, `balanced_high`; None for one seed), and
    the method's rank among the ratio's methods by balanced mean with its range when each seed is
    ranked on its own (`rank`, `rank_best`, `rank_worst`: overlapping ranges are ties)."""
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
        ci = mean_interval(r.metrics["balanced_acc"] for r in runs)
        row["balanced_low"], row["balanced_high"] = (ci.low, ci.high) if ci else (None, None)
        rows.append(row)
    for ratio in {row["ratio"] for row in rows}:
        scores = {(m, q): {r.config.seed: r.metrics["balanced_acc"] for r in runs}
                  for (m, q), runs in groups.items() if q == ratio}
        for (method, _), rank in rank_ranges(scores).items():
            row = next(r for r in rows if r["method"] == method and r["ratio"] == ratio)
            row.update(rank=rank.rank, rank_best=rank.best, rank_worst=rank.worst)
    return rows


def format_summary(rows: list[dict]) -> str:
    """A readable table in percent: mean ± std over seeds, the balanced mean's 95 % interval and the
    rank (its range over seeds) among the ratio's methods."""
    def cell(row, key):
        if row[key] is None:
            return f"{'—':>13}"
        return f"{100 * row[key]:6.2f}±{100 * row[key + '_std']:5.2f}"

    def interval(row):
        if row.get("balanced_low") is None:
            return f"{'—':>15}"
        return f"[{100 * row['balanced_low']:5.2f}, {100 * row['balanced_high']:5.2f}]"

    def rank(row):
        if row.get("rank") is None:
            return f"{'—':>9}"
        spread = "" if row["rank_best"] == row["rank_worst"] else f" ({row['rank_best']:g}–{row['rank_worst']:g})"
        return f"{row['rank']:g}{spread}".rjust(9)

    head = (f"{'method':<18} {'ratio':>6} {'seeds':>5} "
            + " ".join(f"{k.replace('_acc', ''):>13}" for k in SUMMARY_KEYS)
            + f" {'balanced 95% CI':>15} {'rank':>9}")
    lines = [head]
    for row in rows:
        lines.append(f"{row['method']:<18} {row['ratio']:>6g} {row['seeds']:>5} "
                     + " ".join(cell(row, k) for k in SUMMARY_KEYS) + f" {interval(row)} {rank(row)}")
    if any(row["seeds"] > 1 for row in rows):
        lines.append("mean ± sample std over seeds; 95% CI: t interval of the balanced mean; rank by balanced mean "
                     "within its ratio, (best–worst) when each seed is ranked alone: overlapping ranges are ties")
    return "\n".join(lines)


def searched_values(config, names) -> tuple:
    params = dict(config.method_params)
    return tuple((n, params.get(n)) for n in names)


def search_table(results, names: list[str]) -> list[dict]:
    """One row per (method, ratio, parameter point): validation balanced accuracy (the objective) and
    test metrics, mean over seeds, sorted best first within each (method, ratio)."""
    groups: dict[tuple, list] = {}
    for r in results:
        groups.setdefault((r.config.method, r.config.ratio, searched_values(r.config, names)), []).append(r)
    rows = []
    for (method, ratio, point), runs in groups.items():
        val = [r.metrics.get(OBJECTIVE) for r in runs if r.metrics.get(OBJECTIVE) is not None]
        row = {"method": method, "ratio": ratio, **dict(point), "seeds": len(runs),
               OBJECTIVE: statistics.fmean(val) if val else None}
        for key in SUMMARY_KEYS:
            vals = [v for v in (_values(r)[key] for r in runs) if v is not None]
            row[key] = statistics.fmean(vals) if vals else None
        rows.append(row)
    rows.sort(key=lambda row: (row["method"], row["ratio"], -(row[OBJECTIVE] if row[OBJECTIVE] is not None
                                                               else float("-inf"))))
    return rows


def best_points(rows: list[dict]) -> list[dict]:
    """The best row of each (method, ratio) of a search table: highest validation balanced accuracy."""
    best: dict[tuple, dict] = {}
    for row in rows:
        if row[OBJECTIVE] is None:
            continue
        key = (row["method"], row["ratio"])
        if key not in best or row[OBJECTIVE] > best[key][OBJECTIVE]:
            best[key] = row
    return list(best.values())


def format_search(rows: list[dict], names: list[str]) -> str:
    """The search's trials and, per (method, ratio), the best value with its test metrics."""
    def pct(x):
        return "     —" if x is None else f"{100 * x:6.2f}"

    head = (f"{'method':<18} {'ratio':>6} " + " ".join(f"{n:>10}" for n in names)
            + f" {'val bal':>7} {'test bal':>8} {'few':>6}")
    lines = [head]
    for row in rows:
        lines.append(f"{row['method']:<18} {row['ratio']:>6g} " + " ".join(f"{row[n]:>10g}" for n in names)
                     + f" {pct(row[OBJECTIVE]):>7} {pct(row['balanced_acc']):>8} {pct(row['few']):>6}")
    for row in best_points(rows):
        values = ", ".join(f"{n}={row[n]:g}" for n in names)
        lines.append(f"best for {row['method']} at ρ={row['ratio']:g}: {values} (chosen on the validation "
                     f"split: balanced {100 * row[OBJECTIVE]:.2f}%) → test balanced "
                     f"{100 * row['balanced_acc']:.2f}%, overall {100 * row['overall_acc']:.2f}%, few "
                     f"{pct(row['few']).strip()}%")
    return "\n".join(lines)
