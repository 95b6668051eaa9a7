"""Train and Learn pages drive the real job system (worker processes) through AppTest. The tests
share one store and job manager, so its warm worker process serves them all."""
import time

import pytest
from apphelpers import ENTRY, decode, figures, page
from streamlit.testing.v1 import AppTest

from app.charts.base import frequency_order

TINY_LESSON = '''
[[lesson]]
short = "Tiny"
title = "A tiny lesson"
text = "Plain cross-entropy on a small 2-D mixture."
question = "Which class suffers?"
charts = ["per_class", "shots"]
base = { dataset = "gaussians", ratio = 10, epochs = 3, batch_size = 64 }
runs = [ { method = "ce" } ]
'''


@pytest.fixture(scope="module")
def jobs_data(tmp_path_factory):
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(autouse=True)
def shared_store(jobs_data, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(jobs_data))
    monkeypatch.delenv("LTLAB_WORKERS", raising=False)     # one worker on a CPU: runs queue


def poll(at, until, timeout=120.0):
    """Rerun the page until `until(at)` holds (the job works in another process meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception
        if until(at):
            return at
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {timeout} s: {progress(at)}")
        time.sleep(0.3)


def progress(at) -> list[str]:
    """What each progress row says after its run's name and id ("**ce** `0123abcd4567` — done ...")."""
    return [p.proto.text.split("` — ", 1)[-1] for p in at.get("progress")]


def store():
    from ltcore.runs import RunStore

    return RunStore()


def test_learn_page_shows_every_lesson_on_a_fresh_store(app):
    from app.logic import lessons

    at = app.run()
    at.switch_page(page("learn")).run()
    for lesson in lessons.load():
        at.segmented_control(key="lesson").set_value(lesson.number).run()
        assert not at.exception and not at.error
        assert at.header[0].value == f"{lesson.number}. {lesson.title}"
        assert all(run["method"] in at.button(key="lesson_run").label for run in lesson.runs)
        assert at.query_params.get("lesson", "1") == str(lesson.number)
        assert not figures(at)                         # nothing is drawn before the lesson has run


def test_train_runs_a_job_shows_live_progress_and_loads_a_trained_config_at_once(app):
    app.query_params.update({"dataset": "gaussians", "ratio": "20", "epochs": "3", "batch_size": "64"})
    at = app.run()
    at.switch_page(page("train")).run()
    assert not at.exception and "No runs yet" in at.info[0].value and not at.get("progress")
    train = next(b for b in at.button if b.label == "Train 1 run")
    train.click().run()
    run_id = at.session_state["runs"][0]
    assert at.query_params["runs"] == run_id          # the link keeps the run
    at = poll(at, lambda a: any(t.startswith("done") for t in progress(a)))
    history = store().history(run_id)
    curves = figures(at)["monitor_curves"]["data"]
    assert decode(curves[0]["y"]) == pytest.approx([row["loss"] for row in history])
    assert decode(curves[1]["y"]) == pytest.approx([row["balanced_acc"] for row in history])
    assert at.get("progress")[0].proto.value == 100
    next(b for b in at.button if b.label == "Train 1 run").click().run()
    assert len(progress(at)) == 1 and progress(at)[0].startswith("already trained: loaded from the store at once")


def test_stop_and_stop_all_end_queued_and_running_jobs(app):
    app.query_params.update({"dataset": "gaussians", "epochs": "400", "batch_size": "16", "seeds": "2"})
    at = app.run()
    at.switch_page(page("train")).run()
    next(b for b in at.button if b.label == "Train 2 runs").click().run()
    running, queued = at.session_state["runs"]
    at = poll(at, lambda a: progress(a)[0].startswith("epoch") and progress(a)[1].startswith("queued"))
    reloaded = AppTest.from_file(ENTRY, default_timeout=60)     # a reload is a new session: the link keeps the runs
    reloaded.query_params["runs"] = f"{running},{queued}"
    reloaded.run().switch_page(page("train")).run()
    assert progress(reloaded)[0].startswith("epoch") and progress(reloaded)[1].startswith("queued")
    at.button(key=f"stop_{queued}").click().run()        # one worker: the second run waits in the queue
    assert store().get(queued)["status"] == "stopped"
    at.button(key="monitor_stop_all").click().run()
    at = poll(at, lambda a: all(t.startswith("stopped") for t in progress(a)))
    assert store().get(running)["status"] == "stopped" and store().get(running)["epoch"] < 400


def test_a_config_error_is_a_message_not_a_traceback(app):
    """Bad parameters in a link are dropped with a warning; one typed in the editor is an error
    message (user text is markdown-escaped: compare without the backslashes)."""
    app.query_params.update({"methods": "ce", "params": '{"ce": {"holdout": 1.5, "gamma": 2}}'})
    at = app.run()
    at.switch_page(page("train")).run()
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.sidebar.warning).replace("\\", "")
    assert "holdout=1.5" in warnings and "must be in [0, 1), got 1.5" in warnings
    assert "gamma=2" in warnings and "no parameter(s) gamma" in warnings
    at.session_state["edit_ce"] = True                 # open the editor of ce
    at.run().number_input(key="param_ce_holdout").set_value(1.5).run()
    assert not at.exception
    assert at.error[0].value.replace("\\", "") == "method parameter holdout must be in [0, 1), got 1.5"


def test_a_lesson_runs_once_and_then_loads_for_everyone(app, tmp_path, monkeypatch):
    lessons = tmp_path / "lessons.toml"
    lessons.write_text(TINY_LESSON)
    monkeypatch.setenv("LTLAB_LESSONS", str(lessons))
    at = app.run()
    at.switch_page(page("learn")).run()
    assert not at.exception and at.header[0].value == "1. A tiny lesson"
    before = {row["run_id"] for row in store().list_runs()}
    assert "per_class" not in " ".join(figures(at))
    at.button(key="lesson_run").click().run()
    at = poll(at, lambda a: "lesson1_per_class" in figures(a))
    (run_id,) = {row["run_id"] for row in store().list_runs()} - before
    result = store().load_result(run_id)
    order = frequency_order(result.class_counts)
    bars = figures(at)["lesson1_per_class"]["data"][0]
    assert decode(bars["y"]) == [result.per_class_acc[k] for k in order]
    assert "Which class suffers?" in " ".join(m.value for m in at.info)
    other = AppTest.from_file(ENTRY, default_timeout=60)   # another student, a new session
    other.query_params["lesson"] = "1"
    other.run().switch_page(page("learn")).run()
    assert "lesson1_per_class" in figures(other)
    assert "trained before" in other.button(key="lesson_run").label
    next(b for b in other.button if b.label == "Open these runs on the Compare page").click().run()
    assert other.title[0].value.startswith("Compare") and other.query_params["runs"] == run_id
    assert "per_class" in figures(other)
