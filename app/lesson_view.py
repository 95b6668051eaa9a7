"""Draw a lesson's charts from its finished runs (the same builders as Compare and Geometry)."""
from __future__ import annotations

import streamlit as st

from ltcore.data import default_data_dir

from . import charts, charts_eval, charts_geometry, compare_view


def draw(kind: str, ids: list[str], runs: list, labels: list[str], key: str) -> None:
    """One chart kind of lessons.CHARTS for the runs (the first run is the baseline)."""
    if kind == "per_class":
        st.plotly_chart(charts.per_class_accuracy(runs, labels), key=key)
    elif kind == "shots":
        st.plotly_chart(charts.shot_accuracy(runs, labels), key=key)
    elif kind == "change" and len(runs) > 1:
        st.plotly_chart(charts.accuracy_change(runs, labels, runs[0]), key=key)
    elif kind == "regions":
        grids = [(compare_view.decision_grid(str(default_data_dir()), rid), lab) for rid, lab in zip(ids, labels)]
        grids = [(g, lab) for g, lab in grids if g is not None]
        if grids:
            g, lab = zip(*grids)
            st.plotly_chart(charts_eval.decision_regions(list(g), list(lab), runs[0].class_names), key=key)
    elif kind == "norms":  # the baseline's norms beside the first method's
        for i, (r, lab) in enumerate(list(zip(runs, labels))[:2]):
            if "minority_collapse" in r.extras:
                st.plotly_chart(charts_geometry.norms_vs_frequency(r, lab), key=f"{key}_{i}")
    elif kind == "tau":
        with_tau = [(r, lab) for r, lab in zip(runs, labels) if r.extras.get("tau_curve")]
        if with_tau:
            st.plotly_chart(charts_eval.tau_curve(*zip(*with_tau)), key=key)
    elif kind == "nc":
        st.plotly_chart(charts_geometry.nc_history(runs, labels), key=key)
    elif kind == "cosines":
        for i, (r, lab) in enumerate(zip(runs, labels)):
            if "neural_collapse" in r.extras:
                st.plotly_chart(charts_geometry.cosine_heatmaps(r, lab), key=f"{key}_{i}")
