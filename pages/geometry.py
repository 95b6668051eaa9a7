"""Geometry page: neural collapse and minority collapse of the penultimate features."""
import streamlit as st

from app.charts import geometry as charts_geometry, cache as figures
from app.compare import panels as compare_panels
from app.ui import jobs, widgets
from app.logic import two_stage as stages
from app.logic.labels import run_labels
from app.ui.plot import chart
from ltcore.data import default_data_dir
from ltcore.metrics import project_snapshots

st.title("Geometry: do the features collapse?")
st.markdown(
    "Trained long enough, a network's last-layer features of each class shrink to their class mean "
    r"(**NC1**: $\operatorname{Tr}(\Sigma_W \Sigma_B^{+})/K \to 0$), the means spread out as far apart as "
    r"possible — equal norms and angles, $\cos(\tilde\mu_k, \tilde\mu_j) = -\tfrac{1}{K-1}$, a *simplex "
    "ETF* (**NC2**) — the classifier lines up with them (**NC3**) and the network ends up picking the "
    "nearest class mean (**NC4**). Under imbalance the tail classes' classifier rows squeeze together: "
    "**minority collapse**.")


@st.cache_data(show_spinner="Projecting features…", max_entries=16)
def projected(data_dir: str, run_id: str, dim: int) -> list[dict]:
    return project_snapshots(jobs.result(run_id).extras.get("snapshots") or [], dim)


run_ids = widgets.chosen_runs("No runs yet. Train some on the Train page (or run lesson 6 on the Learn page).")
results = {rid: r for rid, r in jobs.results(run_ids).items() if r is not None}
ids = [rid for rid in run_ids if rid in results]
if not ids:
    st.info("Choose one or more finished runs above.")
    st.stop()
labels = dict(zip(ids, run_labels([results[rid].config for rid in ids])))

if st.session_state["geometry_run"] not in ids:  # the choice is in the URL; a stale one falls back
    st.session_state["geometry_run"] = ids[0]
# the "Over training" tab's choice → the NC_PANELS it draws (None: all four, 2×2)
NC_CHOICES = {"NC1": [0], "NC2": [1], "NC3": [2], "NC4": [3], "all": None}
TABS = ["Over training", "Norms & cosines", "Feature scatter"]
if st.session_state["geometry_tab"] not in TABS:
    st.session_state["geometry_tab"] = TABS[0]
picker = st.container()  # the run picker of the two per-run tabs sits above the tabs
history_tab, norms_tab, scatter_tab = st.tabs(TABS, key="geometry_tab", on_change="rerun")

if history_tab.open:  # only the open tab is drawn (its name is in the URL)
    with history_tab:
        tracked = [rid for rid in ids if len(results[rid].extras.get("nc_history") or []) > 1]
        if tracked:
            if st.session_state["geometry_nc"] not in NC_CHOICES:  # a link from another version
                st.session_state["geometry_nc"] = "NC1"
            shown = st.segmented_control(
                "Measure", list(NC_CHOICES), persist_state="session", key="geometry_nc", required=True,
                format_func=lambda c: "all four" if c == "all" else c,
                help="One measure at a time draws at once; all four (Papyan et al.'s figure) take the browser "
                     "about twice as long with many runs.")
            nc_panels = NC_CHOICES[shown]
            tracked_runs = [results[r] for r in tracked]
            heads, _, groups = compare_panels.summaries(tracked, tracked_runs)
            view_ids, view_runs, view_labels = compare_panels.choose(tracked, tracked_runs,
                                                                     [labels[r] for r in tracked])
            grouped = view_runs is not tracked_runs   # one line (mean ± std) per configuration
            members = [[results[r] for r in group] for group in groups] if grouped else None
            chart(figures.get("nc_history", [results[r] for r in view_ids], view_labels,
                              lambda runs, names: charts_geometry.nc_history(runs, names, nc_panels, members),
                              shown, grouped), key="nc_history")
            for rid in (r for r in ids if r not in tracked):
                st.caption(f"Not in these curves: **{labels[rid]}**, because {stages.nc_missing_reason(results[rid])}.")
            two_stage = [labels[r] for r in tracked if stages.describe(results[r])]
            if two_stage:
                st.caption(f"Two-stage runs ({', '.join(two_stage)}): the curves are stage 1, which trains the "
                           "features; stage 2 changes only the classifier, measured once at the end.")
        else:
            st.caption("These runs measured neural collapse only at the end; runs started from the Train page "
                       "record it along the way.")
else:
    chosen = picker.selectbox("Look inside run", ids, format_func=labels.get, persist_state="session",
                              key="geometry_run")
    result = results[chosen]
    if "neural_collapse" not in result.extras:
        st.warning(result.extras.get("nc_error") or "This run has no neural-collapse measurements.")
        st.stop()

if norms_tab.open:
    with norms_tab:
        mc = result.extras.get("minority_collapse") or {}
        etf_cos = -1 / (len(result.class_counts) - 1)
        c = st.columns(3)
        for col, (name, key) in zip(c, (("tail vs tail", "mean_cos_tail"), ("head vs head", "mean_cos_head"),
                                         ("head vs tail", "mean_cos_head_tail"))):
            if mc.get(key) is not None:
                col.metric(f"Mean classifier cosine, {name}", f"{mc[key]:.2f}",
                           help=f"tail = {mc.get('tail_rule', '')}; a simplex ETF has {etf_cos:.2f}")
        chart(figures.get("norms", [result], [labels[chosen]],
                                    lambda r, _: charts_geometry.norms_vs_frequency(r[0])), key="norms")
        chart(figures.get("cosines", [result], [labels[chosen]],
                                    lambda r, _: charts_geometry.cosine_heatmaps(r[0])), key="cosines")

if scatter_tab.open:
    with scatter_tab:
        snapshots = result.extras.get("snapshots") or []
        if not snapshots:
            st.info("This run kept no feature snapshots.")
            st.stop()
        if st.session_state["geometry_dim"] not in (2, 3):
            st.session_state["geometry_dim"] = 2
        dim = st.radio("Feature scatter", [2, 3], format_func=lambda d: f"{d}-D", horizontal=True,
                       persist_state="session", key="geometry_dim")
        feature_dim = len(snapshots[-1]["features"][0]) if snapshots[-1]["features"] else 0
        if feature_dim < dim:
            st.info(f"The features have {feature_dim} dimensions: showing 2-D.")
            dim = 2
        chart(figures.get("features", [result], [labels[chosen]], lambda r, _: charts_geometry.feature_scatter(
            projected(str(default_data_dir()), chosen, dim), r[0].class_names, dim, r[0].class_counts), dim),
            key="features")
        st.caption("Drag the epoch slider or press play. Points: training features (tail classes larger, on top); "
                   "labelled ✕: class means in their class colour; dotted lines: classifier directions (scaled to "
                   "the means). One PCA basis for all epochs, so motion is real.")
