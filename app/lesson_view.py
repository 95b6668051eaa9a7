"""Draw a lesson's charts from its finished runs (the same builders as Compare and Geometry).
Finished runs never change, so each chart is built once per process and shared by the class."""
from __future__ import annotations

import streamlit as st

from ltcore.data import default_data_dir

from . import charts, charts_eval, charts_geometry, compare_view, shared

_FIGURES = shared.Memo(max_entries=128)


def figures(kind: str, ids: list[str], runs: list, labels: list[str]) -> list[tuple[str, object]]:
    """The figures of one chart kind of lessons.CHARTS as (key suffix, figure); the first run is
    the baseline."""
    if kind == "per_class":
        return [("", charts.per_class_accuracy(runs, labels))]
    if kind == "shots":
        return [("", charts.shot_accuracy(runs, labels))]
    if kind == "change" and len(runs) > 1:
        return [("", charts.accuracy_change(runs, labels, runs[0], labels[0]))]
    if kind == "regions":
        grids = [(compare_view.decision_grid(str(default_data_dir()), rid), lab) for rid, lab in zip(ids, labels)]
        grids = [(g, lab) for g, lab in grids if g is not None]
        if grids:
            g, lab = zip(*grids)
            return [("", charts_eval.decision_regions(list(g), list(lab), runs[0].class_names))]
    if kind == "norms":  # the baseline's norms beside the first method's
        return [(f"_{i}", charts_geometry.norms_vs_frequency(r, lab))
                for i, (r, lab) in enumerate(list(zip(runs, labels))[:2]) if "minority_collapse" in r.extras]
    if kind == "tau":
        with_tau = [(r, lab) for r, lab in zip(runs, labels) if r.extras.get("tau_curve")]
        if with_tau:
            return [("", charts_eval.tau_curve(*zip(*with_tau)))]
    if kind == "nc":
        return [("", charts_geometry.nc_history(runs, labels))]
    if kind == "cosines":
        return [(f"_{i}", charts_geometry.cosine_heatmaps(r, lab))
                for i, (r, lab) in enumerate(zip(runs, labels)) if "neural_collapse" in r.extras]
    return []


def draw(kind: str, ids: list[str], runs: list, labels: list[str], key: str) -> None:
    """One chart kind for the runs, built once per process for these results (the entry keeps the
    result objects alive, so their ids in the key stay theirs)."""
    memo_key = (str(default_data_dir()), kind, tuple(ids), tuple(labels), tuple(id(r) for r in runs))
    _, built = _FIGURES.get(memo_key, lambda: (tuple(runs), figures(kind, ids, runs, labels)))
    for suffix, figure in built:
        st.plotly_chart(figure, key=f"{key}{suffix}")
