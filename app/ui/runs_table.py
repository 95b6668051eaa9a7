"""Run management as TensorBoard / W&B users expect it: every run of the store in one sortable,
filterable table (data set, method, ratio, status, tags), and actions on the selected rows: show
or hide them in the charts (the `runs` in view), tag them (tags live in the run store), delete
them after a confirmation that names each (Undo while the session lasts, `trash`). Every action
clears the selection. On a shared server (LTLAB_SHARED=1) a session deletes only runs it
started itself. The whole table is a fragment: filtering and selecting rerun only it."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ltcore.safety import shared_mode

from app.logic import tables
from app.ui import frame, jobs, trash

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


def run_name(row: dict) -> str:
    """A run as a person tells it apart from the others: method · data · ρ · seed · id."""
    return f"{row['method']} · {row['dataset']} · ρ{row['ratio']:g} · seed {row['seed']} · {row['run_id'][:12]}"


def selection_key(ss, key: str = "runs_table") -> str:
    """The table's widget key: a new one after every action, so no row stays selected (after a
    delete the same position would be another run)."""
    return f"{key}_rows_{ss.get(f'{key}_generation', 0)}"


def _done(ss, key: str, scope: str = "app") -> None:
    """After an action on the selected rows: clear the selection, rerun."""
    ss[f"{key}_generation"] = ss.get(f"{key}_generation", 0) + 1
    st.rerun(scope=scope)


@st.fragment
def manage(key: str = "runs_table") -> None:
    """The bin of deleted runs (Undo), the filter row, the table and the actions on the selected runs."""
    with st.container(key=key):
        _bin(key)
        _table(key)


def _bin(key: str) -> None:
    """This session's deleted runs: recoverable (Undo) until the session ends."""
    ss = st.session_state
    binned = trash.mine()
    if not binned:
        return
    names = ss.get(f"{key}_names", {})
    st.info(f"Deleted {len(binned)} run{'s' * (len(binned) != 1)}: "
            + "; ".join(frame.plain(names.get(r, r)) for r in binned)
            + ". Recoverable until this browser session ends; then removed for good.", icon=":material/delete:")
    undo, empty, _ = st.columns([1, 1.6, 4])
    if undo.button("Undo", icon=":material/undo:", key=f"{key}_undo"):
        back = trash.restore(binned)
        jobs.forget_lists()
        was_shown = ss.get(f"{key}_was_shown", [])
        frame.put("runs", frame.get("runs") + [r for r in back if r in was_shown and r not in frame.get("runs")])
        _done(ss, key)
    if empty.button("Delete for good now", icon=":material/delete_forever:", key=f"{key}_empty"):
        _, errors = trash.purge(binned)
        for error in errors:
            st.error(frame.plain(error))
        _done(ss, key)


def _table(key: str) -> None:
    """The filter row, the table and the actions on the selected runs."""
    ss = st.session_state
    rows = jobs.list_runs()
    cols = st.columns(len(FILTERS))
    chosen = {name: col.multiselect(label, _options(rows, name), persist_state="session",
                                    key=f"{key}_{name}", placeholder="all")
              for col, (name, label) in zip(cols, FILTERS)}
    visible = [r for r in rows if matches(r, chosen)]
    table = table_frame(visible, frame.get("runs"))
    shown, spelled = tables.spell_out_few(table, done=table["status"] == "done")
    event = st.dataframe(shown, hide_index=True, key=selection_key(ss, key), on_select="rerun",
                         selection_mode="multi-row", column_config={
                             "shown": st.column_config.CheckboxColumn("in view", help="drawn in the charts"),
                             "balanced_acc": st.column_config.NumberColumn("balanced", format="percent"),
                             "few_acc": st.column_config.TextColumn("few-shot") if spelled else
                             st.column_config.NumberColumn("few-shot", format="percent"),
                             "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
                             "run_id": st.column_config.TextColumn("run id")})
    picked = [table["run_id"].iloc[i] for i in event.selection.rows if i < len(table)]
    st.caption(f"{len(visible)} of {len(rows)} runs · click a column header to sort · select rows (left edge) "
               f"to act on them · {len(picked)} selected")
    if not picked:
        ss.pop(f"{key}_confirm", None)
        return
    a, b, c, d, e = st.columns([1, 1, 2, 1, 1], vertical_alignment="bottom")
    if a.button("Show", icon=":material/visibility:", key=f"{key}_show", help="add to the charts"):
        frame.put("runs", [r for r in frame.get("runs") if r not in picked] + picked)
        _done(ss, key)
    if b.button("Hide", icon=":material/visibility_off:", key=f"{key}_hide", help="take out of the charts"):
        frame.put("runs", [r for r in frame.get("runs") if r not in picked])
        _done(ss, key)
    name = c.text_input("Tag", persist_state="session", key=f"{key}_tag", placeholder="e.g. baseline, paper-fig-2")
    for col, remove, label in ((d, False, "Add tag"), (e, True, "Remove tag")):
        if col.button(label, key=f"{key}_{'untag' if remove else 'tag'}_button", disabled=not name.strip()):
            try:
                jobs.tag(picked, name, remove=remove)
            except Exception as exc:  # LTError: a bad tag; say why
                st.error(str(exc))
            else:
                _done(ss, key, scope="fragment")
    by_id = {r["run_id"]: r for r in visible}
    mine, theirs = deletable(picked)
    if st.button(f"Delete {len(mine)} run{'s' * (len(mine) != 1)}…", icon=":material/delete:", key=f"{key}_delete",
                 disabled=not mine):
        ss[f"{key}_confirm"] = mine
    if theirs:
        st.caption(f"{len(theirs)} selected run(s) were started by someone else: on a shared server you can delete "
                   "only runs this browser session started.")
    confirm = [r for r in ss.get(f"{key}_confirm", []) if r in mine]
    if confirm:
        _confirm(key, [by_id[r] for r in confirm])


def _confirm(key: str, rows: list[dict]) -> None:
    """The question before a delete, naming every run; Yes moves them to this session's bin."""
    ss = st.session_state
    active = [r for r in rows if r["status"] in jobs.ACTIVE]
    rows = [r for r in rows if r["status"] not in jobs.ACTIVE]
    for r in active:
        st.error(frame.plain(f"{run_name(r)} is {r['status']}: stop it before deleting it."))
    if not rows:
        return
    st.warning(f"Delete {'this run' if len(rows) == 1 else f'these {len(rows)} runs'}, with their history, "
               "results and checkpoints? Undo brings them back until this browser session ends.\n\n"
               + "\n".join(f"- {frame.plain(run_name(r))}" for r in rows))
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete", type="primary", key=f"{key}_yes"):
        ids = [r["run_id"] for r in rows]
        ss[f"{key}_names"] = {**ss.get(f"{key}_names", {}), **{r["run_id"]: run_name(r) for r in rows}}
        ss[f"{key}_was_shown"] = [*ss.get(f"{key}_was_shown", []), *(r for r in ids if r in frame.get("runs"))]
        trash.put(ids)
        jobs.forget_lists()
        frame.put("runs", [r for r in frame.get("runs") if r not in ids])
        ss.pop(f"{key}_confirm", None)
        _done(ss, key)
    if no.button("Cancel", key=f"{key}_no"):
        ss.pop(f"{key}_confirm", None)
        _done(ss, key, scope="fragment")
