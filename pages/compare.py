"""Compare page: per-class and shot-group accuracy of chosen runs against training frequency."""
import streamlit as st

from app.charts import base as charts, diagnostics as charts_eval, cache as figures
from app.compare import panels, reproduced, whatif
from app.compare import stats as compare_stats
from app.ui import frame, jobs, widgets
from app.logic import tables
from app.logic.labels import run_labels
from app.ui.plot import chart
from ltcore.data import DATASETS, default_data_dir

st.title("Compare: which classes does each method fix?")
reproduced.show_saved_tables()
run_ids = widgets.chosen_runs("No runs yet. Train some on the Train page (or run a lesson on the Learn page).")
results = jobs.results(run_ids)
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

TABS = ["Accuracy", "Table", "Curves", "Confusion & calibration", "τ-norm", "Decision regions", "What if τ…"]
if st.session_state["compare_tab"] not in TABS:
    st.session_state["compare_tab"] = TABS[0]
view_ids, view_runs, view_labels = panels.choose(ids, runs, labels)
grouped = view_runs is not runs
compare_stats.warn_small_test_set(runs)
seed_members = panels.seed_results(ids, runs) if grouped else None
members = [seed_members[v] for v in view_ids] if grouped else [[r] for r in view_runs]
acc_tab, table_tab, curves_tab, diag_tab, tau_tab, region_tab, whatif_tab = st.tabs(
    TABS, key="compare_tab", on_change="rerun")
if acc_tab.open:  # only the open tab is drawn (its label is in the URL)
    with acc_tab:
        chart(figures.get("per_class", view_runs, view_labels, charts.per_class_accuracy), key="per_class")
        chart(figures.get("shots", view_runs, view_labels, charts.shot_accuracy), key="shots")
        if len(view_ids) > 1:
            ss = st.session_state
            view_label_of = dict(zip(view_ids, view_labels))
            if ss["baseline"] not in view_ids:
                ss["baseline"] = next((rid for rid, r in zip(view_ids, view_runs) if r.config.method == "ce"),
                                      view_ids[0])
            st.selectbox("Baseline run", view_ids, persist_state="session", key="baseline",
                         format_func=view_label_of.get)
            at = view_ids.index(ss["baseline"])
            base = view_runs[at]
            chart(figures.get("change", view_runs, view_labels, lambda r, lab: charts.accuracy_change(
                r, lab, base, view_label_of[ss["baseline"]], members, members[at]),
                ss["baseline"], grouped), key="change")
            compare_stats.show_change_table(view_labels, members, at, view_label_of[ss["baseline"]])
        else:
            st.caption("Choose a second run to see the per-class change against a baseline.")

if table_tab.open:
    with table_tab:
        baseline = ss_base if (ss_base := st.session_state["baseline"]) in view_ids else next(
            (rid for rid, r in zip(view_ids, view_runs) if r.config.method == "ce"), view_ids[0])
        stats = (compare_stats.change_table(view_labels, members, view_ids.index(baseline))
                 if len(view_ids) > 1 else None)
        if grouped:
            table = panels.table(view_ids, view_runs, view_labels)
            config = panels.column_config(table)
        else:
            relative, missing = panels.relative_accuracies(ids, runs)
            table = tables.summary_table(ids, runs, labels, relative)
            config = {c: st.column_config.NumberColumn(format="percent") for c in tables.PERCENT_COLUMNS} | {
                "ece": st.column_config.NumberColumn(format="%.3f"),
                "wall_seconds": st.column_config.NumberColumn("wall time (s)", format="%.1f")}
        table = compare_stats.with_change(table, view_runs, stats)
        shown, spelled = tables.spell_out_few(table)
        st.dataframe(shown, hide_index=True, column_config=config | compare_stats.column_config() | (
            {"few_acc": st.column_config.TextColumn("few_acc")} if spelled else {}))
        if grouped:
            st.caption("One row per configuration: mean over its seeds, and ± one sample standard deviation.")
        if stats is not None:
            st.caption("Δ balanced: against the baseline chosen on the Accuracy tab, with its 95 % interval (paired "
                       "t over seeds; one seed: a bootstrap over the test images).")
        if spelled:
            st.caption(f"few_acc says “{tables.NO_FEW}” for a run whose training set has no few-shot class.")
        widgets.download_table(table, "comparison")
        crest = tables.crest_generations(ids, runs, labels)
        if not crest.empty:
            st.markdown("**CReST self-training**: pseudo-labels per class each generation trained on beside the "
                        "labelled set (tail classes are added more often), and its model's balanced validation "
                        "accuracy")
            st.dataframe(crest, hide_index=True, column_config={
                "val_balanced_acc": st.column_config.NumberColumn(format="percent")})
        if not grouped and missing:
            st.caption(r"Relative accuracy $A_t / \max(A_v, A_b)$ needs plain CE and the method trained on a balanced "
                       "set of the same size (Zhang et al. 2023, §4.1).")
            if st.button(f"Train the {len(missing)} balanced reference run(s)", icon=":material/balance:"):
                submitted, errors = jobs.submit(missing)
                for error in errors:
                    st.error(frame.plain(error))
                st.success(f"Queued {len(submitted)} reference run(s); the column fills in when they finish.")

if curves_tab.open:
    with curves_tab:
        panels.draw_curves(ids, runs, by_seed=grouped)

if diag_tab.open:
    with diag_tab:
        c1, c2 = st.columns([3, 1])
        chosen = c1.selectbox("Confusion matrix of", ids, format_func=label_of.get, persist_state="session",
                              key="confusion_run")
        normalized = c2.toggle("Row-normalised", value=True, persist_state="session", key="confusion_norm")
        if "confusion_matrix" in results[chosen].metrics:
            chart(figures.get("confusion", [results[chosen]], [label_of[chosen]], lambda r, lab: charts_eval.
                            confusion_matrix(r[0], lab[0], normalized), normalized), key="confusion")
        seeds = panels.seed_results(ids, runs) if grouped else {rid: [r] for rid, r in zip(ids, runs)}
        with_bins = [(r, lab, [m for m in seeds[rid] if m.metrics.get("reliability")])
                     for rid, r, lab in zip(view_ids, view_runs, view_labels)]
        with_bins = [entry for entry in with_bins if entry[2]]
        if with_bins:    # one line per configuration (mean ± std over its seeds) while the seed switch is on
            shown, names, members = map(list, zip(*with_bins))
            chart(figures.get("reliability", shown, names, lambda r, lab: charts_eval.reliability_diagram(
                r, lab, members if grouped else None), grouped), key="reliability")

if tau_tab.open:
    with tau_tab:
        seeds = panels.seed_results(ids, runs) if grouped else {rid: [r] for rid, r in zip(ids, runs)}
        with_tau = [(r, lab, seeds[rid]) for rid, r, lab in zip(view_ids, view_runs, view_labels)
                    if any(m.extras.get("tau_curve") for m in seeds[rid])]
        if with_tau:     # one curve per configuration (mean ± std over its seeds) while the seed switch is on
            shown, names, members = map(list, zip(*with_tau))
            chart(figures.get("tau", shown, names, lambda r, lab: charts_eval.tau_curve(
                r, lab, members if grouped else None), grouped), key="tau")
        given = [(lab, r.extras.get("tau")) for r, lab in zip(runs, labels)
                 if (r.extras.get("method_slots") or {}).get("stage2") == "tau_norm" and not r.extras.get("tau_curve")]
        if given:    # τ-norm runs whose τ was given (norm_tau): the core sweeps τ only when it picks it
            st.info("No τ sweep for " + "; ".join(f"{lab} (τ = {tau:g} given)" if tau is not None else lab
                                                   for lab, tau in given)
                    + ": the sweep runs only when `norm_tau` is left automatic (the Advanced editor on Train).")
        elif not with_tau:
            st.info("None of these runs is a τ-norm run: train a τ-norm method (e.g. `tau_norm`) to see the τ sweep.")

if region_tab.open:
    with region_tab:
        shape = DATASETS.get(first.config.dataset).meta.get("shape")
        if tuple(shape or ()) != (2,):
            st.info("Decision regions are drawn for 2-D data: choose runs on the `gaussians` data set.")
        else:
            grids = [(panels.decision_grid(str(default_data_dir()), rid), label_of[rid]) for rid in ids]
            missing_weights = [lab for g, lab in grids if g is None]
            grids = [(g, lab) for g, lab in grids if g is not None]
            if missing_weights:
                st.caption(f"No decision regions for {', '.join(missing_weights)}: no stored weights, or a "
                           "classifier head the plain model cannot rebuild.")
            if grids:
                g, lab = zip(*grids)
                chart(figures.get("regions", runs, list(lab), lambda *_: charts_eval.decision_regions(
                    list(g), list(lab), first.class_names)), key="regions")

if whatif_tab.open:
    with whatif_tab:
        whatif.panel(view_ids, view_labels, key="compare_whatif",
                     groups=panels.summaries(ids, runs)[2] if grouped else None)
