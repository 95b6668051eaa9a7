"""Train page: choose methods and settings, send runs to the job system, watch them train."""
import streamlit as st

from app.train import editor, whichfix
from app.ui import frame, jobs, monitor, widgets
from app.logic import state
from ltcore.methods import PRESETS
from ltcore.models import MODELS

st.title("Train: run methods on this training set")
jobs.warm_up()
v = frame.values()
rho = "its own ratio" if v["profile"] == "none" else f"ρ = {v['ratio']:g}"
st.caption(f"Data: **{v['dataset']}**, profile `{v['profile']}`, {rho}, seed {v['seed']} "
           f"(change them on the Data page or in the sidebar) · runs on **{frame.device_name()}**")

st.multiselect("Methods", PRESETS.names(), persist_state="session", key="methods",
               placeholder="choose one or more methods",
               help="Each method is a preset of the core; one run per method and seed.")
c = st.columns(5)
c[0].selectbox("Model", ["auto", *MODELS.names()], persist_state="session", key="model",
               help="`auto` = the data set's default model")
c[1].number_input("Epochs", *frame.BOUNDS["epochs"], step=5, persist_state="session", key="epochs")
c[2].number_input("Learning rate", *frame.BOUNDS["lr"], step=0.01, format="%g", persist_state="session", key="lr")
c[3].number_input("Batch size", *frame.BOUNDS["batch_size"], step=32, persist_state="session", key="batch_size")
c[4].number_input("Seeds", *frame.BOUNDS["seeds"], step=1, persist_state="session", key="seeds",
                  help=f"runs seeds {v['seed']}, {v['seed'] + 1}, … (each seed draws another training subset)")
editor.method_params(v["methods"])
about = st.expander("What the methods do", key="train_about", on_change="rerun")
if about.open:  # drawn only when opened
    about.dataframe([{"method": e.name, "description": e.description, "paper": e.meta.get("paper", "")}
                     for e in PRESETS.entries()], hide_index=True)

configs = []
if frame.folder_missing():
    st.info("Choose your image folder on the Data page first.", icon=":material/folder_open:")
elif v["methods"]:
    with frame.guard():
        configs = state.make_configs(frame.values())
left, right = st.columns([1, 4], vertical_alignment="center")
if left.button(f"Train {len(configs)} run{'s' * (len(configs) != 1)}", type="primary",
               icon=":material/play_arrow:", disabled=not configs):
    widgets.submit(configs)
right.caption("Configurations trained before load at once from the store; the same configuration "
              "started by someone else is joined, not trained twice.")
whichfix.button("train")

run_ids = st.session_state["runs"]
whichfix.answer(run_ids)
if run_ids:
    head, clear, compare = st.columns([4, 1.2, 1.6], vertical_alignment="bottom")
    head.subheader("Runs")
    statuses = monitor.show(run_ids)
    if clear.button("Clear view", icon=":material/clear_all:", help="take every run out of this view (and the "
                    "link); they keep training and stay in the store"):
        frame.put("runs", [])
        st.rerun()
    finished = [r for r in run_ids if statuses.get(r, {}).get("status") == "done"]
    if compare.button("Open on Compare", icon=":material/compare_arrows:", disabled=not finished,
                      type="primary" if finished and len(finished) == len(run_ids) else "secondary",
                      help="the finished runs of this view, side by side"):
        widgets.show_runs(finished, replace=True)
        st.switch_page(widgets.PAGES / "compare.py")
    st.caption("Leave the page or reload the browser at any time: runs keep training and the link keeps them.")
else:
    st.info("No runs yet: pick methods above and press Train.")

if jobs.any_runs():
    widgets.manage_runs()

others = [r for r in jobs.active() if r not in run_ids]
if others:
    with st.expander(f"Other runs training on this server ({len(others)})"):
        for rid in others:
            st.write(f"`{rid}`")
        if st.button("Stop everything on this server", icon=":material/stop_circle:"):
            jobs.stop_all()
