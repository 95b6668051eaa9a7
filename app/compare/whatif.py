"""Instant what-ifs (as TensorFlow Playground makes a concept tangible): two τ sliders — post-hoc
logit adjustment and τ-normalisation — recompute per-class accuracy, many/medium/few and decision
regions of finished runs from their stored weights, without retraining. The maths is the core's
(`ltcore.whatif`); this module only caches the model outputs per run and draws."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ltcore import LTError
from ltcore import whatif as core
from ltcore.data import default_data_dir

from app.charts import diagnostics as charts_eval
from app.ui import jobs
from app.logic import memo as shared
from app.charts.base import PALETTE, _layout, frequency_order

_OUTPUTS = shared.Memo(max_entries=32)
GROUPS = ("many", "medium", "few")
TAU_MAX, TAU_STEP = 2.0, 0.05


def outputs(run_id: str) -> core.Outputs | None:
    """The run's test-set features and logits (computed once per process from its stored weights;
    finished runs never change); None when it kept no weights or the model cannot be rebuilt."""
    def compute():
        try:
            store = jobs.store()
            return core.prepare(store.config(run_id), store.load_checkpoint(run_id))
        except (LTError, RuntimeError, KeyError):
            return None
    return _OUTPUTS.get((str(default_data_dir()), run_id), compute)


def per_class_figure(evaluated: list[dict], trained: list[dict], labels: list[str], counts, names) -> go.Figure:
    """Per-class accuracy with the τs applied (bars) and as trained (◆), classes most → least frequent."""
    order = frequency_order(counts)
    x = [str(names[k]) for k in order]
    fig = go.Figure()
    for i, (now, before, label) in enumerate(zip(evaluated, trained, labels)):
        color = PALETTE[i % len(PALETTE)]
        fig.add_bar(x=x, y=[now["per_class_acc"][k] for k in order], name=f"{label}: with τ",
                    marker_color=color, offsetgroup=str(i), hovertemplate="class %{x}: %{y:.1%}")
        fig.add_scatter(x=x, y=[before["per_class_acc"][k] for k in order], mode="markers",
                        name=f"{label}: as trained", marker=dict(symbol="diamond", size=9, color=color,
                                                                 line=dict(color="white", width=1)),
                        hovertemplate="class %{x} as trained: %{y:.1%}")
    fig.update_xaxes(type="category", title="class (most → least frequent in training)")
    fig.update_yaxes(title="test accuracy", tickformat=".0%", range=[0, 1.05])
    fig.update_layout(barmode="group")
    return _layout(fig, "Per-class accuracy with the τs applied (bars) and as trained (◆)")


def summary_table(evaluated: list[dict], trained: list[dict], labels: list[str]) -> pd.DataFrame:
    """Balanced and many/medium/few accuracy with the τs, and the change in points."""
    rows = []
    for now, before, label in zip(evaluated, trained, labels):
        row = {"run": label, "balanced_acc": now["balanced_acc"],
               "Δ balanced (points)": 100 * (now["balanced_acc"] - before["balanced_acc"])}
        for g in GROUPS:
            a, b = now["shot_acc"].get(g), before["shot_acc"].get(g)
            row[f"{g}_acc"] = a
            row[f"Δ {g} (points)"] = None if a is None or b is None else 100 * (a - b)
        rows.append(row)
    return pd.DataFrame(rows)


def panel(run_ids: list[str], labels: list[str], key: str, regions: bool = True) -> None:
    """The two sliders and what they change, for finished runs `run_ids` (one classifier each)."""
    found = [(rid, lab, out) for rid, lab in zip(run_ids, labels) if (out := outputs(rid)) is not None]
    missing = [lab for rid, lab in zip(run_ids, labels) if all(rid != f[0] for f in found)]
    if missing:
        st.caption(f"No what-if for {', '.join(missing)}: no stored weights, or a head the plain model "
                   "cannot rebuild.")
    if not found:
        return
    counts = found[0][2].counts
    found = [f for f in found if len(f[2].counts) == len(counts)]
    can_norm = any(out.can_tau_norm for _, _, out in found)

    @st.fragment
    def sliders():
        c1, c2 = st.columns(2)
        la = c1.slider("Post-hoc logit adjustment τ: predict argmax z_k − τ·log π_k (Menon et al. 2021)",
                       0.0, TAU_MAX, 0.0, TAU_STEP, key=f"{key}_la_tau")
        norm = c2.slider("τ-normalisation: w_k / ‖w_k‖^τ (Kang et al. 2020)", 0.0, TAU_MAX, 0.0, TAU_STEP,
                         key=f"{key}_norm_tau", disabled=not can_norm,
                         help=None if can_norm else "needs a linear classifier head z = Wh + b")
        usable = [(rid, lab, out) for rid, lab, out in found if not norm or out.can_tau_norm]
        if len(usable) < len(found):
            st.caption("τ-normalisation needs a linear head z = Wh + b: "
                       f"{', '.join(lab for _, lab, out in found if not out.can_tau_norm)} left out.")
        if not usable:
            return
        names = [lab for _, lab, _ in usable]
        now = [core.evaluate(out, la, norm) for _, _, out in usable]
        before = [core.evaluate(out) for _, _, out in usable]
        st.plotly_chart(per_class_figure(now, before, names, counts, usable[0][2].class_names), key=f"{key}_per_class")
        table = summary_table(now, before, names)
        st.dataframe(table, hide_index=True, column_config={
            c: st.column_config.NumberColumn(format="percent") for c in table if c.endswith("_acc")} | {
            c: st.column_config.NumberColumn(format="%+.1f") for c in table if c.startswith("Δ")})
        grids = [(r["grid"], lab) for r, lab in zip(now, names) if r.get("grid")]
        if regions and grids:
            g, lab = zip(*grids)
            st.plotly_chart(charts_eval.decision_regions(list(g), list(lab), usable[0][2].class_names),
                            key=f"{key}_regions")
        st.caption("Nothing is retrained: the stored model's test features and logits are re-scored "
                   "with these τs (τ = 0 is the model as trained).")

    sliders()
