"""Run management as TensorBoard / W&B users expect it: every run of the store in one sortable,
filterable table (data set, method, ratio, status, tags), and actions on the selected rows: show
or hide them in the charts (the `runs` in view), tag them (tags live in the run store), delete
them after a confirmation. On a shared server (LTLAB_SHARED=1) a session deletes only runs it
started itself. The whole table is a fragment: filtering and selecting rerun only it."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ltcore.runs.safety import shared_mode

from app.ui import frame, jobs

FILTERS = (("dataset", "data set"), ("method", "method"), ("ratio", "ratio ρ"), ("status", "status"), ("tags", "tags"))
COLUMNS = ["shown", "method", "dataset", "ratio", "seed", "epochs", "status", "balanced_acc", "few_acc", "tags",
           "created", "run_id"]


def table_frame(rows: list[dict], shown: list[str]) -> pd.DataFrame:
    """The table's rows (newest first): whether each run is in view, its identity and headline numbers."""
    in_view = set(shown)
    return pd.DataFrame([{
        "shown": r["run_id"] in in_view, "method": r["method"], "dataset": r["dataset"], "ratio": r["ratio"],
        "seed": r["seed"], "epochs": f"{r['epoch']}/{r['epochs']}", "status": r["status"],
        "balanced_acc": r["balanced_acc"], "few_acc": r["few_acc"], "tags": ", ".join(r.get("tags") or []),
        "created": dt.datetime.fromtimestamp(r["created"]) if r.get("created") else None, "run_id": r["run_id"],
    } for r in rows], columns=COLUMNS)


def matches(row: dict, chosen: dict[str, list]) -> bool:
    """Whether a store row passes every filter (an empty filter passes everything; tags: any of them)."""
    for key, wanted in chosen.items():
        if not wanted:
            continue
        if key == "tags":
            if not set(wanted) & set(row.get("tags") or []):
                return False
        elif row.get(key) not in wanted:
            return False
    return True


def _options(rows: list[dict], key: str) -> list:
    if key == "tags":
        return sorted({t for r in rows for t in r.get("tags") or []})
    return sorted({r[key] for r in rows if r.get(key) is not None}, key=lambda v: (isinstance(v, str), v))


def deletable(run_ids: list[str]) -> tuple[list[str], list[str]]:
    """(runs this session may delete, runs it may not): on a shared server only the ones it started."""
    if not shared_mode():
        return list(run_ids), []
    mine = [r for r in run_ids if jobs.started_here(r)]
    return mine, [r for r in run_ids if r not in mine]


@st.fragment
def manage(key: str = "runs_table") -> None:
    """The filter row, the table and the actions on the selected runs."""
    ss = st.session_state
    rows = jobs.list_runs()
    cols = st.columns(len(FILTERS))
    chosen = {name: col.multiselect(label, _options(rows, name), key=f"{key}_{name}", placeholder="all")
              for col, (name, label) in zip(cols, FILTERS)}
    visible = [r for r in rows if matches(r, chosen)]
    table = table_frame(visible, frame.get("runs"))
    event = st.dataframe(table, hide_index=True, key=key, on_select="rerun", selection_mode="multi-row",
                         column_config={
                             "shown": st.column_config.CheckboxColumn("in view", help="drawn in the charts"),
                             "balanced_acc": st.column_config.NumberColumn("balanced", format="percent"),
                             "few_acc": st.column_config.NumberColumn("few-shot", format="percent"),
                             "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
                             "run_id": st.column_config.TextColumn("run id")})
    picked = [table["run_id"].iloc[i] for i in event.selection.rows if i < len(table)]
    st.caption(f"{len(visible)} of {len(rows)} runs · click a column header to sort · select rows (left edge) "
               f"to act on them · {len(picked)} selected")
    if not picked:
        return
    a, b, c, d, e = st.columns([1, 1, 2, 1, 1], vertical_alignment="bottom")
    if a.button("Show", icon=":material/visibility:", key=f"{key}_show", help="add to the charts"):
        frame.put("runs", [r for r in frame.get("runs") if r not in picked] + picked)
        st.rerun()
    if b.button("Hide", icon=":material/visibility_off:", key=f"{key}_hide", help="take out of the charts"):
        frame.put("runs", [r for r in frame.get("runs") if r not in picked])
        st.rerun()
    name = c.text_input("Tag", key=f"{key}_tag", placeholder="e.g. baseline, paper-fig-2")
    for col, remove, label in ((d, False, "Add tag"), (e, True, "Remove tag")):
        if col.button(label, key=f"{key}_{'untag' if remove else 'tag'}_button", disabled=not name.strip()):
            try:
                jobs.tag(picked, name, remove=remove)
            except Exception as exc:  # LTError: a bad tag; say why
                st.error(str(exc))
            else:
                st.rerun(scope="fragment")
    mine, theirs = deletable(picked)
    if st.button(f"Delete {len(mine)} run{'s' * (len(mine) != 1)}…", icon=":material/delete:", key=f"{key}_delete",
                 disabled=not mine):
        ss[f"{key}_confirm"] = mine
    if theirs:
        st.caption(f"{len(theirs)} selected run(s) were started by someone else: on a shared server you can delete "
                   "only runs this browser session started.")
    confirm = [r for r in ss.get(f"{key}_confirm", []) if r in mine]
    if confirm:
        st.warning(f"Delete {len(confirm)} run(s) for good, with their history, results and checkpoints?")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, delete", type="primary", key=f"{key}_yes"):
            deleted, errors = jobs.delete(confirm)
            for error in errors:
                st.error(error)
            frame.put("runs", [r for r in frame.get("runs") if r not in deleted])
            ss.pop(f"{key}_confirm", None)
            st.rerun()
        if no.button("Cancel", key=f"{key}_no"):
            ss.pop(f"{key}_confirm", None)
            st.rerun(scope="fragment")
