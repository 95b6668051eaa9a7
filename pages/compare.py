"""Compare page: per-class and shot-group accuracy of chosen runs against training frequency."""
import streamlit as st

from app import charts, charts_eval, compare_view, jobs, reproduced, tables, widgets
from app.labels import run_labels
from ltcore.data import DATASETS, default_data_dir

st.title("Compare: which classes does each method fix?")
reproduced.show_saved_tables()
run_ids = widgets.chosen_runs("No runs yet. Train some on the Train page (or run a lesson on the Learn page).")
results = {rid: jobs.result(rid) for rid in run_ids}
waiting = [rid for rid, r in results.items() if r is None]
if waiting:
    st.caption(f"{len(waiting)} chosen run(s) have no result yet (queued, running or failed): see the Train page.")
ids = [rid for rid in run_ids if results[rid] is not None]
if not ids:
    st.info("Choose one or more finished runs above.")
    st.stop()
first = results[ids[0]]
other_data = [rid for rid in ids if results[rid].class_names != first.class_names]
if other_data:
    st.warning(f"{len(other_data)} run(s) use another data set than the first and are left out of the charts.")
ids = [rid for rid in ids if rid not in other_data]
runs = [results[rid] for rid in ids]
labels = run_labels([r.config for r in runs])
label_of = dict(zip(ids, labels))

acc_tab, table_tab, diag_tab, tau_tab, region_tab = st.tabs(
    ["Accuracy", "Table", "Confusion & calibration", "τ-norm", "Decision regions"])
with acc_tab:
    st.plotly_chart(charts.per_class_accuracy(runs, labels), key="per_class")
    st.plotly_chart(charts.shot_accuracy(runs, labels), key="shots")
    if len(ids) > 1:
        ss = st.session_state
        if ss["baseline"] not in ids:
            ss["baseline"] = next((rid for rid in ids if results[rid].config.method == "ce"), ids[0])
        st.selectbox("Baseline run", ids, key="baseline", format_func=label_of.get)
        st.plotly_chart(charts.accuracy_change(runs, labels, results[ss["baseline"]]), key="change")
    else:
        st.caption("Choose a second run to see the per-class change against a baseline.")

with table_tab:
    relative, missing = compare_view.relative_accuracies(ids, runs)
    table = tables.summary_table(ids, runs, labels, relative)
    st.dataframe(table, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="percent") for c in tables.PERCENT_COLUMNS} | {
        "ece": st.column_config.NumberColumn(format="%.3f"),
        "wall_seconds": st.column_config.NumberColumn("wall time (s)", format="%.1f")})
    widgets.download_table(table, "comparison")
    if missing:
        st.caption("Relative accuracy A_t / max(A_v, A_b) needs plain CE and the method trained on a balanced "
                   "set of the same size (Zhang et al. 2023, §4.1).")
        if st.button(f"Train the {len(missing)} balanced reference run(s)", icon=":material/balance:"):
            submitted, errors = jobs.submit(missing)
            for error in errors:
                st.error(error)
            st.success(f"Queued {len(submitted)} reference run(s); the column fills in when they finish.")

with diag_tab:
    c1, c2 = st.columns([3, 1])
    chosen = c1.selectbox("Confusion matrix of", ids, format_func=label_of.get, key="confusion_run")
    normalized = c2.toggle("Row-normalised", value=True, key="confusion_norm")
    if "confusion_matrix" in results[chosen].metrics:
        st.plotly_chart(charts_eval.confusion_matrix(results[chosen], label_of[chosen], normalized), key="confusion")
    with_bins = [(r, lab) for r, lab in zip(runs, labels) if r.metrics.get("reliability")]
    if with_bins:
        st.plotly_chart(charts_eval.reliability_diagram(*zip(*with_bins)), key="reliability")

with tau_tab:
    with_tau = [(r, lab) for r, lab in zip(runs, labels) if r.extras.get("tau_curve")]
    if with_tau:
        st.plotly_chart(charts_eval.tau_curve(*zip(*with_tau)), key="tau")
    else:
        st.info("None of these runs has a τ-norm sweep: train a τ-norm method (e.g. `tau_norm`) to see it.")

with region_tab:
    shape = DATASETS.get(first.config.dataset).meta.get("shape")
    if tuple(shape or ()) != (2,):
        st.info("Decision regions are drawn for 2-D data: choose runs on the `gaussians` data set.")
    else:
        grids = [(compare_view.decision_grid(str(default_data_dir()), rid), label_of[rid]) for rid in ids]
        missing_weights = [lab for g, lab in grids if g is None]
        grids = [(g, lab) for g, lab in grids if g is not None]
        if missing_weights:
            st.caption(f"No decision regions for {', '.join(missing_weights)}: no stored weights, or a "
                       "classifier head the plain model cannot rebuild.")
        if grids:
            g, lab = zip(*grids)
            st.plotly_chart(charts_eval.decision_regions(list(g), list(lab), first.class_names), key="regions")
