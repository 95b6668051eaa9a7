"""What only the teacher sees on the Learn page — the key lock, "Prepare the class" with its board
of ready lessons, the student link, notes and answer with their measured figures and checked
claims, "reveal to the class" — and the answer as the class sees it once revealed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.learn import lesson_charts as lesson_view, teacher, warm
from app.ui import frame, jobs
from ltcore import classroom, lessons

BOARD_SECONDS = 2.0
REVEAL_POLL_SECONDS = 10.0
"""How soon a student's page shows an answer the teacher has just revealed."""


def lock_panel() -> None:
    """The key field (teacher mode off) or the lock button (on); without a server key, how to set one."""
    if not teacher.configured():
        st.markdown(f"Teacher mode is off on this server: start it with `{teacher.KEY_ENV}=<a secret>` "
                    "(e.g. `LTLAB_TEACHER_KEY=… make run`), then type that secret here.")
        return
    if teacher.active():
        st.markdown("Teacher mode is on **in this browser tab only**; links you copy open the student view.")
        st.button("Leave teacher mode", key="teacher_lock", icon=":material/lock:", on_click=teacher.lock)
        return
    with st.form("teacher_form", border=False):
        key = st.text_input("Teacher key", type="password", key="teacher_key", persist_state="session",
                            help=f"the secret the server was started with ({teacher.KEY_ENV})")
        if st.form_submit_button("Unlock", icon=":material/lock_open:"):
            if teacher.unlock(key):
                st.rerun()
            st.error("That is not this server's teacher key.")


def student_link(number: int) -> str:
    """This page's address for lesson `number`, without anything of this session (teacher mode
    is never in a link)."""
    base = (st.context.url or "").split("?")[0].split("#")[0].rstrip("/")
    if not base.endswith("/learn"):
        base += "/learn"
    return f"{base}?lesson={number}"


def tools(all_lessons: list, lesson) -> None:
    """Prepare the class, its board, and the student link of this lesson."""
    with st.container(border=True, key="teacher_tools"):
        c1, c2 = st.columns([1, 2], vertical_alignment="top")
        if c1.button("Prepare the class", icon=":material/rocket_launch:", key="prepare_class",
                     help="train every lesson's runs now, each distinct one once, so the class finds them ready"):
            _, errors = jobs.submit(classroom.class_configs(all_lessons))
            for error in errors:
                st.error(frame.plain(error))
        c1.caption("Copy the student link (no notes, no answers):")
        c1.code(student_link(lesson.number), language=None)
        with c2:
            board(all_lessons)


def board(all_lessons: list) -> None:
    """Which lessons are ready (every run done), live while any is training."""
    rows = _board_rows(all_lessons)
    busy = any(state in BUSY for _, state in rows)

    @st.fragment(run_every=BOARD_SECONDS if busy else None)
    def live():
        now = _board_rows(all_lessons)
        ready = sum(state == "ready" for _, state in now)
        st.markdown(f"**The class board:** {ready} of {len(now)} lessons ready")
        st.dataframe(pd.DataFrame([{"lesson": f"{r.number}. {r.short}", "state": state,
                                    "runs done": f"{r.done}/{r.total}"} for r, state in now]),
                     hide_index=True, key="class_board", height=35 * (len(now) + 1) + 3)
        if busy and not any(state in BUSY for _, state in now):
            st.rerun()  # the last lesson got ready: draw the page once more, and stop polling
    live()


BUSY = ("training", "waiting", "building charts")


def _board_rows(all_lessons: list) -> list[tuple]:
    """(board row, state shown): a lesson whose runs are done is "ready" once this server has built
    its charts (`warm`), so a class opening it then is served at once."""
    status = {row["run_id"]: row["status"] for row in jobs.list_runs()}
    store = jobs.store()
    rows = classroom.board(all_lessons, lambda config: status.get(store.run_id_for(config)))
    return [(r, "building charts" if r.state == "ready" and not warm.is_warm(lesson) else r.state)
            for r, lesson in zip(rows, all_lessons)]


def _by_method(results) -> dict | None:
    if not results:
        return None
    out: dict[str, list] = {}
    for r in results:
        out.setdefault(r.config.method, []).append(r)
    return out


def notes(lesson, results, key: str) -> None:
    """The teacher's notes and the answer, their `{method.metric}` figures measured on the lesson's
    runs, what they claim checked on those runs, and the button that shows the answer to the class."""
    by_method = _by_method(results)
    if lesson.notes:
        st.info(f"**Teacher's notes.** {lessons.fill(lesson.notes, by_method)}", icon=":material/co_present:")
    if lesson.answer:
        st.success(f"**Answer.** {lessons.fill(lesson.answer, by_method)}", icon=":material/lightbulb:")
        shown = teacher.revealed(lesson)
        if st.button("Hide the answer from the class" if shown else "Reveal the answer to the class",
                     key=f"{key}_reveal", icon=":material/visibility_off:" if shown else ":material/visibility:"):
            teacher.reveal(lesson, not shown)
            st.rerun()
        if shown:
            st.caption("The class sees this answer now.")
    if by_method and lesson.teacher_claims:
        lesson_view.checked_claims(lesson.teacher_claims, by_method, "What the notes and the answer claim, "
                                   "checked on these runs", key=f"{key}_teacher_claims")


def class_answer(lesson, results) -> None:
    """The answer, once the teacher reveals it (each student's page looks every few seconds; a
    server without a teacher key has no teacher to reveal it, and no page polls)."""
    if not lesson.answer or not teacher.configured():
        return
    by_method = _by_method(results)

    @st.fragment(run_every=REVEAL_POLL_SECONDS)
    def answer():
        if teacher.revealed(lesson):
            st.success(f"**Answer** (shown by the teacher). {lessons.fill(lesson.answer, by_method)}",
                       icon=":material/lightbulb:")
    answer()
