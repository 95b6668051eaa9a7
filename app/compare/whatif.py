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
from ltcore.methods import resolve_params
from ltcore.metrics.seeds import mean_std

from app.charts import diagnostics as charts_eval
from app.logic import state
from app.ui import frame, jobs
from app.logic import memo as shared
from app.charts.base import _layout, frequency_order, run_bar, run_color
from app.ui.plot import chart

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


PRIOR_SLOTS = {"loss": ("balanced_softmax", "la"), "posthoc": ("logit_adjust",)}
"""Slots that already correct for the training prior (Ren et al. 2020; Menon et al. 2021): post-hoc
logit adjustment on top of them subtracts log π a second time."""


def corrects_prior(config) -> bool:
    """Whether the run's method already takes the class prior out of its logits."""
    try:
        slots = resolve_params(config.method, dict(config.method_params), required=False)
    except LTError:
        return False
    return any(slots.get(slot) in names for slot, names in PRIOR_SLOTS.items())


def mean_evaluation(members: list[dict]) -> dict:
    """What-if numbers of one configuration: the mean over its seeds of per-class, balanced and
    shot-group accuracy, with the per-class sample std ("per_class_std"; 0 for one seed)."""
    if len(members) == 1:
        return {**members[0], "per_class_std": [0.0] * len(members[0]["per_class_acc"])}
    per_class = [mean_std(values) for values in zip(*(m["per_class_acc"] for m in members))]
    shots = {g: mean_std(m["shot_acc"].get(g) for m in members)[0] for g in GROUPS}
    return {"per_class_acc": [mu for mu, _ in per_class], "per_class_std": [sd or 0.0 for _, sd in per_class],
            "balanced_acc": mean_std(m["balanced_acc"] for m in members)[0], "shot_acc": shots,
            "grid": members[0].get("grid")}


def per_class_figure(evaluated: list[dict], trained: list[dict], labels: list[str], counts, names) -> go.Figure:
    """Per-class accuracy with the τs applied (bars, ± std over seeds for a configuration of several)
    and as trained (◆), one colour per configuration, classes most → least frequent."""
    order = frequency_order(counts)
    x = [str(names[k]) for k in order]
    fig = go.Figure()
    for i, (now, before, label) in enumerate(zip(evaluated, trained, labels)):
        std = now.get("per_class_std")
        fig.add_bar(x=x, y=[now["per_class_acc"][k] for k in order], name=label, legendgroup=label,
                    marker=run_bar(i), offsetgroup=str(i), hovertemplate="class %{x}: %{y:.1%}",
                    error_y=dict(type="data", array=[std[k] for k in order], visible=True, thickness=1.2)
                    if std and any(std) else None)
        fig.add_scatter(x=x, y=[before["per_class_acc"][k] for k in order], mode="markers", legendgroup=label,
                        showlegend=False, name=f"{label}: as trained",
                        marker=dict(symbol="diamond", size=9, color=run_color(i), line=dict(color="white", width=1)),
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


def _keep_in_url(key: str, value: float) -> None:
    """A slider moved inside the fragment: its value goes into the view and the link at once (the
    widget already drew, so only the view's copy is written)."""
    st.session_state[frame.VIEW][key] = value
    frame.sync_url()


def panel(run_ids: list[str], labels: list[str], key: str, regions: bool = True,
          groups: list[list[str]] | None = None) -> None:
    """The two sliders and what they change, for finished runs `run_ids` (one classifier each).
    `groups`: the run ids of each configuration (its seeds), drawn as one entry (mean ± std) under
    the label of its first run; default one entry per run."""
    groups = groups or [[rid] for rid in run_ids]
    label_of = dict(zip(run_ids, labels))
    members = {rid: [(m, out) for m in group if (out := outputs(m)) is not None]
               for rid, group in zip(run_ids, groups)}
    found = [(rid, label_of[rid], members[rid]) for rid in run_ids if members[rid]]
    missing = [lab for rid, lab in zip(run_ids, labels) if not members[rid]]
    if missing:
        st.caption(f"No what-if for {', '.join(missing)}: no stored weights, or a head the plain model "
                   "cannot rebuild.")
    if not found:
        return
    counts = found[0][2][0][1].counts
    found = [f for f in found if len(f[2][0][1].counts) == len(counts)]
    can_norm = any(out.can_tau_norm for _, _, group in found for _, out in group)
    url_keys = {f"{key}_la_tau", f"{key}_norm_tau"} & set(state.FIELDS)

    @st.fragment
    def sliders():
        c1, c2 = st.columns(2)
        la = c1.slider(r"Post-hoc logit adjustment τ: predict $\arg\max_k\, z_k - \tau \log \pi_k$ "
                       "(Menon et al. 2021)", 0.0, TAU_MAX, step=TAU_STEP, persist_state="session",
                       key=f"{key}_la_tau")
        norm = c2.slider(r"τ-normalisation: $w_k / \lVert w_k \rVert^{\tau}$ (Kang et al. 2020)", 0.0, TAU_MAX,
                         step=TAU_STEP, persist_state="session", key=f"{key}_norm_tau", disabled=not can_norm,
                         help=None if can_norm else "needs a linear classifier head z = Wh + b")
        for name, value in ((f"{key}_la_tau", la), (f"{key}_norm_tau", norm)):
            if name in url_keys:
                _keep_in_url(name, value)
        usable = [(rid, lab, group) for rid, lab, group in found
                  if not norm or all(out.can_tau_norm for _, out in group)]
        if len(usable) < len(found):
            left = [lab for rid, lab, _ in found if rid not in {u[0] for u in usable}]
            st.caption(f"τ-normalisation needs a linear head z = Wh + b: {', '.join(left)} left out.")
        if not usable:
            return
        twice = [lab for _, lab, group in usable if corrects_prior(jobs.config(group[0][0]))]
        if la and twice:
            st.info(f"{', '.join(twice)} already take{'s' * (len(twice) == 1)} the class prior out of the logits "
                    "while training (balanced softmax / logit-adjusted loss): post-hoc τ subtracts τ·log π_k a "
                    "second time, which over-corrects towards the tail. Compare it at τ = 0.",
                    icon=":material/info:")
        names = [lab for _, lab, _ in usable]
        now = [mean_evaluation([core.evaluate(out, la, norm) for _, out in group]) for _, _, group in usable]
        before = [mean_evaluation([core.evaluate(out) for _, out in group]) for _, _, group in usable]
        first = usable[0][2][0][1]
        chart(per_class_figure(now, before, names, counts, first.class_names), key=f"{key}_per_class")
        table = summary_table(now, before, names)
        st.dataframe(table, hide_index=True, column_config={
            c: st.column_config.NumberColumn(format="percent") for c in table if c.endswith("_acc")} | {
            c: st.column_config.NumberColumn(format="%+.1f") for c in table if c.startswith("Δ")})
        grids = [(r["grid"], lab) for r, lab in zip(now, names) if r.get("grid")]
        if regions and grids:
            g, lab = zip(*grids)
            chart(charts_eval.decision_regions(list(g), list(lab), first.class_names),
                            key=f"{key}_regions")
        several = any(len(group) > 1 for _, _, group in usable)
        st.caption("Nothing is retrained: the stored model's test features and logits are re-scored "
                   "with these τs (τ = 0 is the model as trained)."
                   + (" A configuration of several seeds is their mean (± one std over seeds); its decision "
                      "regions are its first seed's." if several else ""))

    sliders()
