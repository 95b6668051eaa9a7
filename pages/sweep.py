"""Sweep page: a grid of methods × imbalance ratios × seeds (optionally a parameter search), trained on
this server or on a Ray cluster, with the figures researchers draw from such a grid."""
import json

import streamlit as st

from app.charts import sweep as charts_sweep
from app.ui import frame, jobs, widgets
from app.sweep import launch as sweep_jobs
from app.logic import sweep_tables as sweep_view
from app.logic import tables
from app.ui.plot import chart
from ltcore.methods import PRESETS
from ltcore.runs import default_workers
from ltcore.sweep import OBJECTIVE, best_points, estimate, format_seconds, plan, search_table

st.title("Sweep: methods × imbalance ratios × seeds")
v = frame.values()
st.caption(f"Data: **{v['dataset']}**, profile `{v['profile']}`, base seed {v['seed']} · epochs {v['epochs']}, "
           f"lr {v['lr']:g}, batch {v['batch_size']} (set on the Train page and in the sidebar)")

st.multiselect("Methods", PRESETS.names(), persist_state="session", key="sw_methods",
               placeholder="choose methods (include ce for the gain)")
c = st.columns([2, 1, 1])
c[0].text_input("Imbalance ratios ρ", persist_state="session", key="sw_ratios", help="comma-separated, e.g. 10,50,100")
c[1].number_input("Seeds", *frame.BOUNDS["sw_seeds"], step=1, persist_state="session", key="sw_seeds",
                  help=f"seeds {v['seed']}, {v['seed'] + 1}, … (each seed draws another training subset)")
c[2].number_input("Epochs", *frame.BOUNDS["epochs"], step=5, persist_state="session", key="epochs")
with st.expander("Parameter search (optional)", expanded=bool(v["sw_param"])):
    p = st.columns([2, 1])
    p[0].text_input("Range NAME=LOW:HIGH (append :log for a log scale)", persist_state="session", key="sw_param",
                    placeholder="e.g. tau=0.5:2 for la_loss", help="a numeric method parameter every chosen "
                    "method takes; values are drawn at random, the same ones for every method, ratio and seed")
    p[1].number_input("Values to try", *frame.BOUNDS["sw_samples"], step=1, persist_state="session", key="sw_samples")
    st.caption("The best value is the one with the highest balanced accuracy on the **validation** split; "
               "the test set only reports it.")

address = sweep_jobs.ray_address()
if address:
    st.radio("Run on", ["local", "ray"], persist_state="session", key="sw_backend", horizontal=True,
             format_func={"local": "this server", "ray": f"Ray cluster at {address}"}.get)
backend = v["sw_backend"] if address else "local"

spec = None
with frame.guard():
    spec = sweep_view.spec_from_values(frame.values())
store = jobs.store()
todo, run_ids, cached = plan(spec, store)
names = [r.name for r in spec.ranges]
parallel = default_workers() if backend == "local" else 1
est = estimate(store, spec.configs(), parallel)
when = ("nothing to train: every run is in the store" if not todo else
        f"about {format_seconds(est['seconds'])} on {parallel} worker{'s' * (parallel != 1)}"
        if est["seconds"] is not None and backend == "local" else
        f"about {format_seconds(est['seconds'])} of training in total, less with trials in parallel"
        if est["seconds"] is not None else "no time estimate yet: no finished run of this data set in the store")
def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


st.markdown(f"**{_n(len(run_ids), 'run')}** ({_n(len(spec.methods), 'method')} × {_n(len(spec.ratios), 'ratio')} × "
            f"{_n(len(spec.seeds), 'seed')}{f' × {spec.samples} values of {names[0]}' if names else ''}) · "
            f"{len(cached)} already in the store · {when}")

statuses = {rid: (store.get(rid) or {}).get("status") for rid in run_ids}
active = [rid for rid, s in statuses.items() if s in ("queued", "running")]
driving = backend == "ray" and sweep_jobs.ray_running(spec)
left, mid, _ = st.columns([1, 1, 4])
if left.button(f"Run {len(todo)} run{'s' * (len(todo) != 1)}", type="primary", icon=":material/play_arrow:",
               disabled=not todo or bool(active) or driving, key="sweep_run"):
    if backend == "ray":
        sweep_jobs.start_ray(spec, address)
        st.toast(f"Sent {len(todo)} trials to the Ray cluster at {address}")
    else:
        ids, errors = sweep_jobs.start_local(todo)
        for error in errors:
            st.error(error)
    st.rerun()
if mid.button("Stop", icon=":material/stop_circle:", disabled=not (active or driving), key="sweep_stop"):
    sweep_jobs.stop(run_ids)
    st.rerun()


@st.fragment(run_every=2.0 if (active or driving) else None)
def trials() -> None:
    """The live table of the sweep's trials; a full rerun when a run finishes (figures follow)."""
    rows = sweep_view.trial_rows(store, run_ids, names)
    finished = sum(r["status"] in ("done", "failed", "stopped", "interrupted") for r in rows)
    st.progress(finished / max(len(rows), 1), text=f"{finished}/{len(rows)} runs finished")
    st.dataframe(rows, hide_index=True, key="sweep_trials", column_config={
        c: st.column_config.NumberColumn(format="percent") for c in (OBJECTIVE, "balanced_acc", "few_acc")})
    if backend == "ray" and sweep_jobs.ray_log_tail(spec):
        st.caption("Ray driver: " + sweep_jobs.ray_log_tail(spec, 1))
    seen = st.session_state.setdefault("_sweep_finished", {})
    if seen.get(spec.key) not in (None, finished) and (active or driving):
        seen[spec.key] = finished
        st.rerun()
    seen[spec.key] = finished


st.subheader("Trials")
trials()

results = {rid: r for rid in run_ids if (r := jobs.result(rid)) is not None and r.status == "done"}
if not results:
    st.info("No finished run of this grid yet: press Run (finished runs are read from the store, never re-trained).")
    st.stop()
runs = sweep_view.results_frame(results, names)
summary = sweep_view.summary_frame(runs)
st.subheader("Accuracy against the imbalance ratio")
chart(charts_sweep.accuracy_vs_ratio(summary, "balanced_acc", "balanced accuracy"), key="sweep_balanced")
if "few_acc" in summary:
    chart(charts_sweep.accuracy_vs_ratio(summary, "few_acc", "few-shot accuracy"), key="sweep_few")
else:
    st.caption(f"No few-shot accuracy to draw: {tables.NO_FEW.replace('this ρ', 'any ρ of this grid')}.")
gain = sweep_view.gain_over_ce(summary)
if gain is not None:
    chart(charts_sweep.gain_heatmap(gain), key="sweep_gain")
else:
    st.caption("Add `ce` to the methods to see each method's gain over plain cross-entropy.")
if names:
    by_value = sweep_view.summary_frame(runs, ("method", "ratio", names[0]))
    st.subheader(f"Accuracy against {names[0]}")
    chart(charts_sweep.accuracy_vs_param(by_value, names[0], OBJECTIVE), key="sweep_param")
    for row in best_points(search_table(list(results.values()), names)):
        st.markdown(f"Best **{names[0]} = {row[names[0]]:g}** for `{row['method']}` at ρ = {row['ratio']:g}: "
                    f"validation balanced {row[OBJECTIVE]:.2%} → test balanced {row['balanced_acc']:.2%}, "
                    f"few-shot {row['few'] if row['few'] is None else format(row['few'], '.2%')}")

st.subheader("Numbers")
st.dataframe(summary, hide_index=True, key="sweep_summary", column_config={  # % like the trials table above
    c: st.column_config.NumberColumn(c, format="percent") for c in summary.columns
    if c.removesuffix("_std") in sweep_view.METRICS})
widgets.download_table(runs, "sweep_runs")
st.download_button("Whole sweep (JSON)", json.dumps({"spec": spec.to_dict(), "summary": summary.to_dict("records"),
                                                      "runs": runs.to_dict("records")}, default=str, indent=1),
                   f"sweep-{spec.key}.json", "application/json", key="sweep_json", icon=":material/download:")
