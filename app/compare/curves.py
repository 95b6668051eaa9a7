"""The Compare page's Curves tab: overlaid per-epoch curves (metric, smoothing, log axis), train vs
test accuracy and the class × epoch heatmap of one run or seed group. Figures are built once per
process for the same results and options (shared.Memo)."""
from __future__ import annotations

import streamlit as st

from ltcore.metrics.seeds import group_by_seed

from app.charts import curves as charts_runs
from app.logic import memo as shared
from app.charts.cache import freeze
from app.ui.plot import chart
from app.logic.labels import run_labels

_FIGURES = shared.Memo(max_entries=128)


def groups(ids: list[str], runs: list, by_seed: bool) -> list[tuple[str, list[str], list[list[dict]]]]:
    """(label, run ids, histories) per line: one per seed group (`by_seed`) or one per run."""
    members = group_by_seed([r.config for r in runs]) if by_seed else [[i] for i in range(len(runs))]
    names = run_labels([runs[g[0]].config for g in members])
    return [(name, [ids[i] for i in g], [runs[i].history for i in g]) for name, g in zip(names, members)]


def _figure(kind: str, runs: list, options: tuple, build):
    key = (kind, tuple(id(r) for r in runs), options)
    _, figure = _FIGURES.get(key, lambda: (tuple(runs), freeze(build())))
    return figure


def draw(ids: list[str], runs: list, by_seed: bool) -> None:
    lines = groups(ids, runs, by_seed)
    ss = st.session_state
    if ss["curves_metric"] not in charts_runs.METRICS:  # a link from another version
        ss["curves_metric"] = "balanced_acc"
    ss["curves_smooth"] = min(max(float(ss["curves_smooth"]), 0.0), 0.95)
    if ss.get("heatmap_run", 0) not in range(len(lines)):
        ss["heatmap_run"] = 0
    named = [(label, histories) for label, _, histories in lines]
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    c1.selectbox("Metric", list(charts_runs.METRICS), persist_state="session", key="curves_metric",
                 format_func=charts_runs.METRICS.get)
    c2.slider("Smoothing (EMA weight, as in TensorBoard)", 0.0, 0.95, step=0.05, persist_state="session",
              key="curves_smooth")
    c3.toggle("Log axis", persist_state="session", key="curves_log")
    options = (ss["curves_metric"], ss["curves_smooth"], ss["curves_log"], tuple(label for label, _ in named))
    chart(_figure("curves", runs, options, lambda: charts_runs.overlaid_curves(
        named, ss["curves_metric"], ss["curves_smooth"], ss["curves_log"])), key="curves")
    chart(_figure("train_test", runs, options[3:], lambda: charts_runs.train_vs_test(named)),
                    key="train_test")
    which = st.selectbox("Per-class accuracy over epochs of", range(len(lines)), persist_state="session", key="heatmap_run",
                         format_func=lambda i: lines[i][0]) if len(lines) > 1 else 0
    label, members, histories = lines[which]
    first = runs[ids.index(members[0])]
    chart(_figure("heatmap", runs, (label, tuple(members)), lambda: charts_runs.class_epoch_heatmap(
        histories, first.class_names, first.class_counts, label)), key="class_epochs")
    st.caption("Rows: classes from the most to the least frequent (training images in brackets); columns: epochs. "
               "Watch whether the tail rows at the bottom ever light up.")
