"""Building blocks shared by pages: downloads, the first-experiment box, run pickers."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ltcore import LTError
from ltcore.methods import PRESETS

from app.ui import frame, jobs, runs_table
from app.logic import state
from app.charts.base import frequency_order
from app.logic.labels import ratio_text

PAGES = Path(__file__).resolve().parents[2] / "pages"
FIRST_METHODS = ("ce", "balanced_softmax")  # plain training, then the simplest fix (Ren et al. 2020)


def download_table(df: pd.DataFrame, name: str) -> None:
    """CSV and JSON downloads of a table (the files are written when a button is pressed, not on
    every rerun of the page)."""
    c1, c2, _ = st.columns([1, 1, 6])
    c1.download_button("CSV", lambda: df.to_csv(index=False), f"{name}.csv", "text/csv", key=f"{name}_csv",
                       icon=":material/download:")
    c2.download_button("JSON", lambda: df.to_json(orient="records", indent=1), f"{name}.json",
                       "application/json", key=f"{name}_json", icon=":material/download:")


def counts_table(classes, train_counts, test_counts, groups) -> pd.DataFrame:
    """Class, training/test images and shot group, most frequent first."""
    order = frequency_order(train_counts)
    return pd.DataFrame({"class": [str(classes[k]) for k in order],
                         "train_images": [train_counts[k] for k in order],
                         "test_images": [test_counts[k] for k in order],
                         "group": [groups[k] for k in order]})


def submit(configs) -> list[str]:
    """Send configs to the job system, add them to the runs in view, report problems as messages."""
    ids, errors = jobs.submit(configs)
    for error in errors:
        st.error(frame.plain(error))
    if ids:
        show_runs(ids)
    return ids


def show_runs(ids: list[str], replace: bool = False) -> None:
    """Put runs in view (and so in the URL): after the ones already there, or instead of them."""
    kept = [] if replace else [r for r in frame.get("runs") if r not in ids]
    frame.put("runs", kept + list(dict.fromkeys(ids)))


def first_experiment_box() -> None:
    """On an empty store: one button that trains plain CE and one fix on the current data."""
    try:
        if jobs.any_runs():  # any run at all, finished or not
            return
    except LTError as exc:  # an unusable store: say so, and let the page work without it
        st.warning(frame.plain(exc))
        return
    methods = [m for m in FIRST_METHODS if m in PRESETS]
    with st.container(border=True):
        st.markdown(
            "**New here?** Below is a training set where some classes have many images and others "
            "only a handful. Train a plain network on it and see which classes it fails on — "
            f"{' and '.join(f'`{m}`' for m in methods)} run in seconds on a CPU.")
        if st.button("Run the first experiment", type="primary", icon=":material/play_arrow:"):
            values = frame.values()
            with frame.guard():
                configs = [state.make_config(values, m) for m in methods]
            frame.put("methods", methods)
            if submit(configs):
                st.switch_page(PAGES / "train.py")


def run_options() -> dict[str, dict]:
    """Every run of the store (newest first) as id → summary row."""
    return {row["run_id"]: row for row in jobs.list_runs()}


def option_label(row: dict) -> str:
    status = "" if row["status"] == "done" else f" [{row['status']}]"
    acc = f" · bal {row['balanced_acc']:.1%}" if row.get("balanced_acc") is not None else ""
    rho = ratio_text(row.get("profile") or "", row["ratio"], row.get("real_ratio"))
    return (f"{row['method']} · {row['dataset']} {rho} · seed {row['seed']} · "
            f"{row['epochs']} ep{acc}{status} · {row['run_id'][:8]}")


def chosen_runs(empty_hint: str) -> list[str]:
    """The run picker over the store's runs; with no runs yet, `empty_hint` and a link to Train,
    and the page stops there."""
    options = run_options()
    if not options:
        st.info(empty_hint)
        st.page_link(PAGES / "train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    manage_runs()
    return pick_runs(options)


def manage_runs() -> None:
    """The run table (sort, filter, show/hide, tag, delete) in an expander drawn only when open."""
    box = st.expander("Manage runs: sort, filter, show/hide, tag, delete", key="runs_manage", on_change="rerun",
                      icon=":material/table_rows:")
    if box.open:
        with box:
            runs_table.manage()


def pick_runs(options: dict[str, dict], label: str = "Runs") -> list[str]:
    """The runs in view (key `runs`, mirrored in the URL), chosen among the store's runs."""
    ss = st.session_state
    known = [r for r in ss["runs"] if r in options]
    if len(known) < len(ss["runs"]):
        st.warning(f"{len(ss['runs']) - len(known)} run(s) of the link are not in this store and were left out.")
        ss["runs"] = known
    st.multiselect(label, list(options), persist_state="session", key="runs",
                   format_func=lambda r: option_label(options[r]),
                   placeholder="choose runs (train some on the Train page)")
    return list(ss["runs"])
