"""Learn page: short lessons, each one button, the charts that show the point, the claims its
text makes checked on its own runs (mean ± std over seeds), one question — and, in teacher mode,
notes and the answer."""
import streamlit as st

from app.ui import frame, jobs, monitor, widgets
from app.learn import lesson_charts as lesson_view
from app.logic import lessons
from ltcore.methods import PRESETS

LESSONS = lessons.load()
st.title(f"Learn: {len(LESSONS)} lessons on long-tailed learning")
jobs.warm_up()
if frame.get("lesson") not in range(1, len(LESSONS) + 1):
    frame.put("lesson", 1)
c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
c1.segmented_control("Lesson", [l.number for l in LESSONS], persist_state="session", key="lesson", required=True,
                     format_func=lambda n: f"{n}. {LESSONS[n - 1].short}")
teacher = c2.toggle("Teacher mode", persist_state="session", key="teacher", help="show the teacher's notes and the answers")
lesson = LESSONS[frame.get("lesson") - 1]

st.header(f"{lesson.number}. {lesson.title}")
st.markdown(lesson.text)
if teacher and lesson.notes:
    st.info(f"**Teacher's notes.** {lesson.notes}", icon=":material/co_present:")
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
    st.info(f"**Try this:** {lesson.question}", icon=":material/help:")
    if teacher and lesson.answer:
        st.success(f"**Answer.** {lesson.answer}", icon=":material/lightbulb:")
else:
    st.info("Press the button: the runs take seconds, and once anyone in the class has run them they load at once.")
    if teacher and lesson.answer:
        st.success(f"**Question:** {lesson.question}  \n**Answer.** {lesson.answer}", icon=":material/lightbulb:")
