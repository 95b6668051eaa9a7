"""Live view of runs in the job system: progress bars, curves, Stop / Stop all, re-run. Runs of
one configuration over several seeds are one curve (their mean) inside a band (± one std).

Polls with a `run_every` fragment while anything is queued or running; when the last run ends it
reruns the whole app once, so polling stops and result-dependent views refresh. Statuses and curve
figures are shared by every session (jobs, shared): a poll that finds nothing new builds nothing."""
from __future__ import annotations

import streamlit as st

from ltcore import LTError
from ltcore.metrics.seeds import group_by_seed

from app.charts import base as charts
from app.ui import frame, jobs
from app.logic import memo as shared, two_stage as stages_of
from app.charts.cache import freeze
from app.ui.plot import chart
from app.logic.labels import run_labels

POLL_SECONDS = 2.0
_CURVES = shared.Memo(max_entries=128)  # figures by (label, run, epochs seen): built once per new epoch


def _line(s: dict, loaded: bool = False, two_stage: bool = False, result=None) -> str:
    """One line saying where a run is (`loaded`: it was already done when this session asked;
    `two_stage`: stage 1 then stage 2, described from the finished `result`)."""
    status, epoch, epochs = s["status"], s["epoch"], s["epochs"]
    last = s["history"][-1] if s["history"] else {}
    acc = f" · balanced acc {last['balanced_acc']:.1%}" if last.get("balanced_acc") is not None else ""
    if status == "queued":
        pos = s.get("queue_position")
        return "queued" if pos is None else f"queued ({pos} ahead of it)" if pos else "queued (starts next)"
    if status == "running":
        if two_stage and epoch >= epochs:
            how = "reused" if last.get("reused") else "trained"
            return f"stage 1 {how} ({epoch} epochs{acc}) · stage 2 running · {s.get('device') or ''}"
        return f"{'stage 1: ' if two_stage else ''}epoch {epoch}/{epochs}{acc} · {s.get('device') or 'starting'}"
    stages = stages_of.describe(result) if result is not None else None
    if result is not None and result.metrics.get("balanced_acc") is not None:
        acc = f" · balanced acc {result.metrics['balanced_acc']:.1%}"   # after stage 2, not stage 1's
    if status == "done" and (s.get("cached") or loaded):
        return f"already trained: loaded from the store at once{acc}" + (f" · {stages}" if stages else "")
    if stages:
        return f"{status}{acc} · {stages}"
    return f"{status} after {epoch}/{epochs} epochs{acc}"


def _run_row(run_id: str, label: str, s: dict, config=None) -> None:
    """One element per run (its name, id and where it is, over its progress bar); a Stop or Re-run
    button beside it only when the run has one: ten finished runs are ten elements to draw."""
    fraction = 1.0 if s["status"] == "done" else min(s["epoch"] / max(s["epochs"], 1), 1.0)
    two_stage = config is not None and stages_of.is_two_stage(config)
    result = jobs.result(run_id) if two_stage and s["status"] not in jobs.ACTIVE else None
    text = (f"**{frame.plain(label)}** `{run_id[:12]}` — "
            + _line(s, run_id in st.session_state.get("_loaded_runs", ()), two_stage, result))
    action = ("Stop" if s["status"] in jobs.ACTIVE else
              "Re-run" if s["status"] in ("interrupted", "failed", "stopped") else None)
    if action is None:
        st.progress(fraction, text=text)
    else:
        bar, button = st.columns([8, 1.4], vertical_alignment="bottom")
        bar.progress(fraction, text=text)
        if action == "Stop" and button.button("Stop", key=f"stop_{run_id}", icon=":material/stop:"):
            jobs.stop(run_id)
        elif action == "Re-run" and button.button("Re-run", key=f"rerun_{run_id}", icon=":material/replay:"):
            try:
                new_id = jobs.rerun(run_id)
            except LTError as exc:
                st.error(frame.plain(exc))
            else:
                frame.put("runs", [new_id if r == run_id else r for r in frame.get("runs")])
    if s["status"] == "failed" and s.get("error"):
        st.error(frame.plain(f"{label}: {s['error']}"))
    elif s["status"] == "interrupted" and s.get("error"):
        st.warning(frame.plain(f"{label}: {s['error']}"))


def show(run_ids: list[str], key: str = "monitor", curves_when_done: bool = True) -> dict[str, dict]:
    """Progress rows and live curves of `run_ids` (curves only while training unless
    `curves_when_done`); returns their latest statuses."""
    first = jobs.statuses(run_ids)
    live = any(s["status"] in jobs.ACTIVE for s in first.values())

    @st.fragment(run_every=POLL_SECONDS if live else None)
    def panel():
        now = jobs.statuses(run_ids)
        ids = [r for r in run_ids if r in now]
        configs = [jobs.config(r) for r in ids]
        labels = run_labels(configs) if ids else []
        for rid, label, config in zip(ids, labels, configs):
            _run_row(rid, label, now[rid], config)
        active = [r for r in ids if now[r]["status"] in jobs.ACTIVE]
        if active and st.button("Stop all", key=f"{key}_stop_all", icon=":material/stop_circle:"):
            for rid in active:
                jobs.stop(rid)
        with_history = [i for i, rid in enumerate(ids) if now[rid]["history"]]
        if with_history and (active or curves_when_done):
            groups = [[with_history[j] for j in g] for g in group_by_seed([configs[i] for i in with_history])]
            names = run_labels([configs[g[0]] for g in groups])
            seen = tuple((name, tuple((ids[i], len(now[ids[i]]["history"]), now[ids[i]]["history"][-1].get("epoch"))
                                      for i in g)) for name, g in zip(names, groups))
            figure = _CURVES.get(seen, lambda: freeze(charts.training_curves(
                [(name, [now[ids[i]]["history"] for i in g]) for name, g in zip(names, groups)])))
            chart(figure, key=f"{key}_curves")
        if live and not active:
            st.rerun()  # the last run ended: refresh the page once and stop polling
        first.update(now)

    panel()
    return first
