"""Teacher mode (issue 23, item 3): only with the key the server was started with, never from a
link; the teacher reveals an answer to the whole class; "Prepare the class" trains every lesson's
runs once and its board says when each lesson is ready."""
from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import ENTRY, page
from lessonfiles import lesson, write_lessons

TINY = ("seeds = 1\n" + lesson("One", ["ce", "balanced_softmax"], answer="because {ce.few}", notes="look at {ce.many}")
        + "\n" + lesson("Two", ["ce"], answer="since"))


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    monkeypatch.setenv("LTLAB_LESSONS", str(write_lessons(tmp_path, TINY)))
    return tmp_path


def learn(**query) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.query_params.update(query)
    at.run()
    return at.switch_page(page("learn")).run()


def shown(at) -> str:
    return " ".join(e.value for kind in ("info", "success", "markdown") for e in at.get(kind))


def unlock(at, key: str) -> AppTest:
    at.text_input(key="teacher_key").input(key)
    return at.button[[b.label for b in at.button].index("Unlock")].click().run()


def board(at):
    return next(d.value for d in at.dataframe if "state" in d.value.columns)


def test_without_a_server_key_there_is_no_teacher_mode_and_a_link_cannot_turn_it_on(classroom, monkeypatch):
    monkeypatch.delenv("LTLAB_TEACHER_KEY", raising=False)
    at = learn(lesson="1", teacher="1")
    assert not at.exception and not at.text_input
    assert "LTLAB_TEACHER_KEY" in shown(at)
    assert "Teacher's notes" not in shown(at) and "Answer" not in shown(at)


def test_only_the_servers_key_opens_teacher_mode_and_the_link_stays_a_student_link(classroom, monkeypatch):
    monkeypatch.setenv("LTLAB_TEACHER_KEY", "s3cret")
    at = unlock(learn(lesson="1", teacher="1"), "wrong")
    assert any("not this server's teacher key" in e.value for e in at.error)
    assert "Teacher's notes" not in shown(at) and "Prepare the class" not in [b.label for b in at.button]
    at = unlock(at, "s3cret")
    assert not at.exception and "Teacher's notes" in shown(at) and "Answer." in shown(at)
    assert "measured after the run" in shown(at)                           # no figure before the runs
    assert "Prepare the class" in [b.label for b in at.button]
    assert "teacher" not in at.query_params                                # nothing of teacher mode in the URL
    assert any(c.value.endswith("/learn?lesson=1") for c in at.code)       # the student link


def test_an_answer_the_teacher_reveals_reaches_the_class(classroom, monkeypatch):
    monkeypatch.setenv("LTLAB_TEACHER_KEY", "s3cret")
    student = learn(lesson="2")
    assert "since" not in shown(student)
    teacher = unlock(learn(lesson="2"), "s3cret")
    teacher.button[[b.label for b in teacher.button].index("Reveal the answer to the class")].click().run()
    assert "The class sees this answer now." in " ".join(c.value for c in teacher.caption)
    assert "Answer** (shown by the teacher). since" in shown(student.run())
    teacher.button[[b.label for b in teacher.button].index("Hide the answer from the class")].click().run()
    assert "since" not in shown(student.run())


def test_prepare_the_class_trains_every_lesson_once_and_the_board_says_ready(classroom, monkeypatch):
    from ltcore.runs import RunStore

    monkeypatch.setenv("LTLAB_TEACHER_KEY", "s3cret")
    at = unlock(learn(lesson="2"), "s3cret")
    assert list(board(at)["state"]) == ["not started", "not started"]
    at.button[[b.label for b in at.button].index("Prepare the class")].click().run()
    deadline = time.monotonic() + 240
    while "2 of 2 lessons ready" not in shown(at) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
    assert "2 of 2 lessons ready" in shown(at), shown(at)
    assert list(board(at)["runs done"]) == ["2/2", "1/1"]
    rows = RunStore().list_runs()
    assert len(rows) == 2 and all(r["attempts"] == 1 for r in rows)       # ce shared by both lessons: once
    assert at.get("plotly_chart")                                          # lesson 2's chart, ready at once

    from app.learn import lesson_charts

    def built_on_the_page(*args):
        raise AssertionError("a student's page built a chart the server should have built before")
    monkeypatch.setattr(lesson_charts, "figures", built_on_the_page)
    student = learn(lesson="1")                                            # lesson 1: never opened before
    assert not student.exception and len(student.get("plotly_chart")) == 1
