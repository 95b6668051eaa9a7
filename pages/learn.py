"""Learn page: short lessons, each one button, the charts that show the point, the claims its
text makes checked on its own runs (mean ± std over seeds), one question — and, in teacher mode
(the server's LTLAB_TEACHER_KEY typed in this tab, never in a link), notes, the answer, what
they claim checked on the runs, "Prepare the class" with its board, and the student link."""
import streamlit as st

from app.learn import lesson_charts as lesson_view, teacher, teacher_view, warm
from app.ui import frame, jobs, monitor, widgets
from ltcore import lessons
from ltcore.methods import PRESETS

LESSONS = lessons.load()
st.title(f"Learn: {len(LESSONS)} lessons on long-tailed learning")
jobs.warm_up()
warm.start(LESSONS)                                # charts of ready lessons built before students ask
if frame.get("lesson") not in range(1, len(LESSONS) + 1):
    frame.put("lesson", 1)
number = frame.get("lesson")
prev_col, pick_col, next_col, teacher_col = st.columns([1.3, 5, 1.1, 1.6], vertical_alignment="bottom")
prev_col.button("Previous", icon=":material/chevron_left:", key="lesson_prev", disabled=number <= 1,
                on_click=frame.put, args=("lesson", number - 1), use_container_width=True)
pick_col.selectbox("Lesson", [l.number for l in LESSONS], persist_state="session", key="lesson",
                   format_func=lambda n: f"{n}. {LESSONS[n - 1].short} — {LESSONS[n - 1].title}")
next_col.button("Next", icon=":material/chevron_right:", key="lesson_next", disabled=number >= len(LESSONS),
                on_click=frame.put, args=("lesson", number + 1), use_container_width=True)
with teacher_col.popover("Teacher" + (" ✓" if teacher.active() else ""), icon=":material/co_present:",
                         use_container_width=True):
    teacher_view.lock_panel()
is_teacher = teacher.active()
lesson = LESSONS[frame.get("lesson") - 1]
if is_teacher:
    teacher_view.tools(LESSONS, lesson)

st.header(f"{lesson.number}. {lesson.title}")
st.markdown(lesson.text)
absent = [m for m in lesson.methods() if m not in PRESETS]
if absent:
    st.error(f"This lesson needs the method(s) {', '.join(absent)}, which this installation does not have.")
    st.stop()
configs = lesson.configs()
ids = [jobs.store().run_id_for(c) for c in configs]
statuses = jobs.statuses(ids)                      # only the runs someone has started
done = all(statuses.get(rid, {}).get("status") == "done" for rid in ids)
what = " and ".join(f"`{m}`" for m in lesson.methods())
seeds = f" × {lesson.seeds} seeds" if lesson.seeds > 1 else ""
label = f"Run lesson {lesson.number}: {what}{seeds}" + (" (trained before: loads at once)" if done else "")
if st.button(label, type="primary", icon=":material/play_arrow:", key="lesson_run"):
    submitted, errors = jobs.submit(configs)
    for error in errors:
        st.error(frame.plain(error))
    statuses = jobs.statuses(ids)

results = None
if statuses:
    monitor.show([rid for rid in ids if rid in statuses], key=f"lesson{lesson.number}", curves_when_done=False)
    results = [jobs.result(rid) for rid in ids]
    if all(r is not None for r in results):
        lesson_view.claims(lesson, results, key=f"lesson{lesson.number}")
        view = lesson_view.seed_view(ids, results)
        for kind in lesson.charts:
            lesson_view.draw(kind, view, key=f"lesson{lesson.number}_{kind}")
        if st.button("Open these runs on the Compare page", icon=":material/compare_arrows:"):
            widgets.show_runs(ids, replace=True)
            st.switch_page(widgets.PAGES / "compare.py")
    else:
        results = None
else:
    st.info("Press the button: the runs take seconds, and once anyone in the class has run them they load at once.")
st.info(f"**Try this:** {lesson.question}", icon=":material/help:")
if is_teacher:
    teacher_view.notes(lesson, results, key=f"lesson{lesson.number}")
else:
    teacher_view.class_answer(lesson, results)
