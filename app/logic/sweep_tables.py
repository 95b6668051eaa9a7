"""The Sweep page's numbers: the page's grid as a core SweepSpec, its runs' live rows from the store,
and the per-run and per-(method, ratio) tables its figures and downloads read. No streamlit here."""
from __future__ import annotations

import pandas as pd

from ltcore import Config
from ltcore.errors import ConfigError
from ltcore.sweep import OBJECTIVE, SweepSpec, parse_range

PAGE_CONFIRM = ("choose fewer methods, ratios or seeds; a larger sweep starts from a terminal: "
                "`python -m ltcore sweep ... --yes`")
METRICS = ("balanced_acc", "few_acc", "overall_acc", "many_acc", "medium_acc", OBJECTIVE)


def parse_ratios(text: str) -> tuple[float, ...]:
    try:
        ratios = tuple(float(r) for r in text.replace(";", ",").split(",") if r.strip())
    except ValueError:
        raise ConfigError(f"imbalance ratios are comma-separated numbers, e.g. 10,50,100 (got {text!r})") from None
    if not ratios:
        raise ConfigError("give at least one imbalance ratio, e.g. 10,50,100")
    return ratios


def spec_from_values(v: dict) -> SweepSpec:
    """The sweep of the page's widgets: base settings from the sidebar and Train page, the grid and
    the parameter range from the Sweep page (no geometry recording: sweeps keep runs light)."""
    data_path = v.get("data_path", "") if v["dataset"] == "imagefolder" else ""
    mu = v["mu"] if v["profile"] == "step" else Config().minority_fraction
    base = Config(dataset=v["dataset"], data_path=data_path, profile=v["profile"], minority_fraction=mu,
                  model=v["model"], epochs=int(v["epochs"]), batch_size=int(v["batch_size"]), lr=float(v["lr"]))
    ranges = tuple(r for r in [parse_range(v["sw_param"].strip())] if r) if v["sw_param"].strip() else ()
    if v["sw_param"].strip() and not ranges:
        raise ConfigError(f"the parameter range takes NAME=LOW:HIGH, e.g. tau=0.5:2 (got {v['sw_param']!r})")
    if not v["sw_methods"]:
        raise ConfigError("choose at least one method")
    seeds = tuple(int(v["seed"]) + i for i in range(max(int(v["sw_seeds"]), 1)))
    spec = SweepSpec(base, tuple(v["sw_methods"]), parse_ratios(v["sw_ratios"]), seeds, ranges,
                     "random" if ranges else "grid", int(v["sw_samples"]) if ranges else 0)
    spec.check_size(confirm=PAGE_CONFIRM)  # the CLI's limits, before a single configuration is built
    return spec


def trial_rows(store, run_ids: list[str], names: list[str]) -> list[dict]:
    """One live row per run of the sweep: its cell, status, epoch and latest accuracies (validation
    and test) from the store — the last history row while it trains, the result once it is done."""
    rows = []
    for run_id in run_ids:
        row = store.get(run_id)
        if row is None:
            rows.append({"run_id": run_id, "status": "not submitted"})
            continue
        config, params = row["config"], dict(row["config"]["method_params"])
        last = store.history(run_id)[-1:] or [{}]
        rows.append({"run_id": run_id, "method": config["method"], "ratio": config["ratio"],
                     "seed": config["seed"], **{n: params.get(n) for n in names}, "status": row["status"],
                     "epoch": f"{row['epoch']}/{config['epochs']}", "attempts": row["attempts"],
                     "val_balanced_acc": last[0].get(OBJECTIVE), "balanced_acc": last[0].get("balanced_acc"),
                     "few_acc": last[0].get("few_acc"), "device": row["device"], "error": row["error"]})
    return rows


def results_frame(results: dict, names: list[str]) -> pd.DataFrame:
    """One row per finished run: its cell, searched values and the stored metrics."""
    rows = []
    for run_id, r in results.items():
        params = dict(r.config.method_params)
        shots = r.metrics["shot_acc"]
        rows.append({"run_id": run_id, "method": r.config.method, "ratio": r.config.ratio, "seed": r.config.seed,
                     **{n: params.get(n) for n in names}, "overall_acc": r.metrics["overall_acc"],
                     "balanced_acc": r.metrics["balanced_acc"], OBJECTIVE: r.metrics.get(OBJECTIVE),
                     **{f"{g}_acc": shots.get(g) for g in ("many", "medium", "few")},
                     "wall_seconds": r.wall_seconds, "status": r.status})
    columns = ["run_id", "method", "ratio", "seed", *names, *METRICS, "wall_seconds", "status"]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))


def summary_frame(frame: pd.DataFrame, by: tuple = ("method", "ratio")) -> pd.DataFrame:
    """Mean and std over seeds of every metric per group (std 0 with one seed)."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, "seeds"])
    metrics = [m for m in METRICS if m in frame and frame[m].notna().any()]
    grouped = frame.groupby(list(by), sort=True, dropna=False)
    out = grouped[metrics].mean()
    std = grouped[metrics].std(ddof=1).fillna(0.0).add_suffix("_std")
    return pd.concat([out, std, grouped.size().rename("seeds")], axis=1).reset_index()


def gain_over_ce(summary: pd.DataFrame, metric: str = "balanced_acc") -> pd.DataFrame | None:
    """method × ratio table of `metric` minus plain ce's at the same ratio (None without ce runs)."""
    if summary.empty or "ce" not in set(summary["method"]):
        return None
    table = summary.pivot_table(index="method", columns="ratio", values=metric)
    gain = table.sub(table.loc["ce"], axis=1).drop(index="ce")
    return gain if not gain.empty else None
