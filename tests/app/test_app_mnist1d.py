"""MNIST-1D in the dashboard (issue 9: "MNIST-1D works offline from ... the dashboard (Data, Train,
Compare, Geometry) and the lessons' data-set choice"): one user's path through AppTest on a fresh
store — the Data page's histogram, two 2-epoch runs trained through the job system from the Train
page, Compare and Geometry on them, and a lesson whose lessons.toml puts it on MNIST-1D (a lesson
chooses its data set there). The signals are generated once per test process (the package's
per-sample Python) and cached in the data folder, so the worker process reads them from the file."""
import time

import pytest
from apphelpers import decode, figures, page

from ltcore.data import load_split, make_longtail, mnist1d_set

pytestmark = pytest.mark.slow  # runs trained by worker processes through the pages

LESSON = '''
seeds = 1
[[lesson]]
short = "MNIST-1D"
title = "A long tail of 1-D signals"
text = "Plain cross-entropy and the balanced softmax on MNIST-1D-LT."
question = "Which classes gain?"
charts = ["per_class", "shots", "change", "nc"]
geometry = true
base = { dataset = "mnist1d", ratio = 100, epochs = 2, batch_size = 256 }
runs = [ { method = "ce" }, { method = "balanced_softmax" } ]
claims = [ { say = "many-shot accuracy is above chance", left = "ce.many", right = 0.1 } ]
'''


@pytest.fixture(scope="module")
def m1d_data(tmp_path_factory):
    return tmp_path_factory.mktemp("m1d")


@pytest.fixture(autouse=True)
def m1d_store(m1d_data, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(m1d_data))
    monkeypatch.delenv("LTLAB_WORKERS", raising=False)


def poll(at, until, timeout=240.0):
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, at.exception
        if until(at):
            return at
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {timeout} s: {[p.proto.text for p in at.get('progress')]}")
        time.sleep(0.5)


def test_mnist1d_goes_through_data_train_compare_geometry_and_a_lesson(app, m1d_data, tmp_path, monkeypatch):
    app.query_params.update({"dataset": "mnist1d", "ratio": "100", "methods": "ce,balanced_softmax",
                             "epochs": "2", "batch_size": "256"})
    at = app.run(timeout=180)                      # Data: generates (or reads) the signals
    assert not at.exception and not at.error
    cache = mnist1d_set.cache_path(m1d_data / "mnist1d", 15_000)
    assert cache.is_file()                        # what the worker process reads instead of generating
    with monkeypatch.context() as mp:             # a later load reads the file: fast, no generation
        mp.setattr(mnist1d_set, "_generated", lambda *a: pytest.fail("generated again"))
        started = time.perf_counter()
        counts = make_longtail(load_split("mnist1d", m1d_data), "exp", 100.0, 0).counts
        assert time.perf_counter() - started < 5
    bars = [t for t in figures(at)["histogram"]["data"] if t["name"] in ("many", "medium", "few")]
    assert sum((decode(t["y"]) for t in bars), []) == sorted(counts, reverse=True) and max(counts) == 1000

    at.switch_page(page("train")).run()
    assert not at.exception
    next(b for b in at.button if b.label == "Train 2 runs").click().run()
    at = poll(at, lambda a: len(a.get("progress")) == 2 and all(
        "done after 2/2 epochs" in p.proto.text for p in a.get("progress")))
    run_ids = at.session_state["runs"]
    next(b for b in at.button if b.label == "Open on Compare").click().run()
    assert not at.exception and not at.error and at.title[0].value.startswith("Compare")
    per_class = figures(at)["per_class"]
    assert len(decode(per_class["data"][0]["y"])) == 10 and {"shots", "change"} <= set(figures(at))

    at.switch_page(page("geometry")).run()
    assert not at.exception and not at.error
    nc = figures(at)["nc_history"]
    assert {t["name"] for t in nc["data"] if t.get("showlegend") is not False} >= {"ce", "balanced_softmax"}
    at.session_state["geometry_tab"] = "Feature scatter"
    at.run()
    assert not at.exception and not at.error and "features" in figures(at)

    lessons = tmp_path / "lessons.toml"
    lessons.write_text(LESSON)
    monkeypatch.setenv("LTLAB_LESSONS", str(lessons))
    at.switch_page(page("learn")).run()
    assert not at.exception and not at.error
    assert "`mnist1d`" in " ".join(m.value for m in at.sidebar.markdown)   # the lesson's own data
    assert "trained before" in at.button(key="lesson_run").label   # the same configs as the Train page's
    at.button(key="lesson_run").click().run()
    at = poll(at, lambda a: "lesson1_per_class" in figures(a))
    assert not at.error and {"lesson1_shots", "lesson1_change", "lesson1_nc"} <= set(figures(at))
    assert "✓ holds" in " ".join(m.value for m in at.markdown)
    assert at.session_state["runs"] == run_ids     # the Train view kept its runs
