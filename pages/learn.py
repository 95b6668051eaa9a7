"""Learn page: six short lessons, each one button, one chart that shows the point, one question."""
import streamlit as st

from app import jobs, lesson_view, lessons, monitor, widgets
from app.labels import run_labels
from ltcore.methods import PRESETS

LESSONS = lessons.load()
st.title("Learn: six lessons on long-tailed learning")
jobs.warm_up()
if st.session_state["lesson"] not in range(1, len(LESSONS) + 1):
    st.session_state["lesson"] = 1
st.segmented_control("Lesson", [l.number for l in LESSONS], key="lesson", required=True,
                     format_func=lambda n: f"{n}. {LESSONS[n - 1].short}")
lesson = LESSONS[st.session_state["lesson"] - 1]

st.header(f"{lesson.number}. {lesson.title}")
st.markdown(lesson.text)
absent = [run["method"] for run in lesson.runs if run["method"] not in PRESETS]
if absent:
    st.error(f"This lesson needs the method(s) {', '.join(absent)}, which this installation does not have.")
    st.stop()
configs = lesson.configs()
ids = [jobs.store().run_id_for(c) for c in configs]
statuses = jobs.statuses(ids)                      # only the runs someone has started
done = all(statuses.get(rid, {}).get("status") == "done" for rid in ids)
what = " and ".join(f"`{c.method}`" for c in configs)
label = f"Run lesson {lesson.number}: {what}" + (" (trained before: loads at once)" if done else "")
if st.button(label, type="primary", icon=":material/play_arrow:", key="lesson_run"):
    submitted, errors = jobs.submit(configs)
    for error in errors:
        st.error(error)
    statuses = jobs.statuses(ids)

if statuses:
    monitor.show([rid for rid in ids if rid in statuses], key=f"lesson{lesson.number}", curves_when_done=False)
    results = [jobs.result(rid) for rid in ids]
    if all(r is not None for r in results):
        labels = run_labels(configs)
        for kind in lesson.charts:
            lesson_view.draw(kind, ids, results, labels, key=f"lesson{lesson.number}_{kind}")
        if st.button("Open these runs on the Compare page", icon=":material/compare_arrows:"):
            widgets.show_runs(ids, replace=True)
            st.switch_page(widgets.PAGES / "compare.py")
    st.info(f"**Try this:** {lesson.question}", icon=":material/help:")
else:
    st.info("Press the button: the runs take seconds, and once anyone in the class has run them they load at once.")
