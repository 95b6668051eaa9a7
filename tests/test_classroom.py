"""Prepare the class (issue 23): every lesson's runs queued at once, each distinct one once, runs
shared by lessons first; a board of what is ready; `python -m ltcore lessons prepare|board`."""
from __future__ import annotations

from ltcore import classroom, lessons
from ltcore.cli import main
from lessonfiles import lesson, write_lessons

TINY = "seeds = 2\n" + lesson("One", ["ce", "balanced_softmax"]) + "\n" + lesson("Two", ["cbs", "ce"])


def tiny(tmp_path):
    path = write_lessons(tmp_path, TINY)
    return lessons.load(path), path


def test_the_class_trains_each_distinct_run_once_and_shared_runs_first(tmp_path):
    found, _ = tiny(tmp_path)
    configs = classroom.class_configs(found)
    assert len(configs) == 6 and len({c.run_id for c in configs}) == 6        # 8 lesson runs, ce twice
    assert [c.method for c in configs[:2]] == ["ce", "ce"]                     # used by both lessons
    assert [c.method for c in configs[2:]] == ["balanced_softmax"] * 2 + ["cbs"] * 2


def test_every_built_in_lesson_shares_plain_ce_and_the_class_has_fewer_runs_than_its_lessons():
    found = lessons.load(lessons.LESSONS_FILE)
    configs = classroom.class_configs(found)
    assert len(configs) < sum(len(l.configs()) for l in found)
    assert configs[0].method == "ce"


def test_the_board_says_which_lessons_are_ready():
    found = lessons.load(lessons.LESSONS_FILE)[:2]
    done = {c.run_id for c in found[0].configs()}
    running = found[1].configs()[-1].run_id
    rows = classroom.board(found, lambda c: "done" if c.run_id in done else "running" if c.run_id == running else None)
    assert [r.state for r in rows] == ["ready", "training"]
    assert (rows[1].done, rows[1].running, rows[1].total) == (3, 1, 6)          # lesson 2 shares lesson 1's ce
    assert classroom.board(found, lambda c: "failed")[0].state == "failed"
    assert "1. The long tail" in classroom.format_board(rows) and "3/6 done, 1 training" in classroom.format_board(rows)


def test_lessons_prepare_trains_every_lesson_then_the_board_says_ready(tmp_path, capsys):
    _, path = tiny(tmp_path)
    data = tmp_path / "data"
    assert main(["lessons", "board", "--data-dir", str(data), "--lessons", str(path)]) == 0
    assert capsys.readouterr().out.count("not started") == 2
    assert main(["lessons", "prepare", "--data-dir", str(data), "--lessons", str(path)]) == 0
    out = capsys.readouterr().out
    assert "6 distinct runs for 2 lessons: 6 queued" in out and "prepared in" in out
    assert main(["lessons", "prepare", "--data-dir", str(data), "--lessons", str(path)]) == 0
    assert "0 queued, 0 already training, 6 done before" in capsys.readouterr().out   # nothing trained twice
    main(["lessons", "board", "--data-dir", str(data), "--lessons", str(path)])
    assert capsys.readouterr().out.count("ready") == 2
