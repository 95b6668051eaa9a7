"""A session survives leaving the Train page while runs train (issue 14, bug 1): the Train page's
live progress is a `run_every` fragment, and Streamlit drops widget keys at the end of such a
fragment run, so the next page found `methods`, `profile`, ... missing and the URL fell back to
defaults. AppTest never fires `run_every` by itself: `fragment_run` makes the same ScriptRunner do
what the browser's timer asks for, a rerun of only the registered fragments."""
import time

import pytest
import streamlit.testing.v1.local_script_runner as local_runner
from apphelpers import page

from app.logic import state

PAGES = ("data", "compare", "geometry", "learn", "train", "data")


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    monkeypatch.delenv("LTLAB_WORKERS", raising=False)
    yield tmp_path
    from app.ui import jobs

    jobs.stop_all()


def fragment_run(at, monkeypatch):
    """Rerun only the fragments the last run registered (what a `run_every` tick sends)."""
    ids = list(at._fragment_storage._fragments)
    assert ids, "the page registered no fragment"
    original = local_runner.RerunData
    with monkeypatch.context() as mp:
        mp.setattr(local_runner, "RerunData", lambda **kw: original(**kw, fragment_id_queue=ids))
        at.run()
    assert not at.exception


def test_leaving_train_while_runs_train_keeps_the_session_and_the_link(app, fresh_store, monkeypatch):
    link = {"dataset": "gaussians", "epochs": "300", "batch_size": "16", "seeds": "2", "methods": "ce,cbs"}
    app.query_params.update(link)
    at = app.run()
    at.switch_page(page("train")).run()
    next(b for b in at.button if b.label == "Train 4 runs").click().run()
    runs = list(at.session_state["runs"])
    assert len(runs) == 4
    time.sleep(1.0)
    fragment_run(at, monkeypatch)         # the progress panel polls ...
    fragment_run(at, monkeypatch)
    for name in PAGES:                    # ... and the user walks through every page meanwhile
        at.switch_page(page(name)).run()
        assert not at.exception, name
        assert not [e.value for e in at.error], name
        assert at.query_params == {**link, "runs": ",".join(runs)}, name
        if name == "train":
            fragment_run(at, monkeypatch)
    values = {key: at.session_state[key] for key in state.FIELDS}
    assert values["methods"] == ["ce", "cbs"] and values["runs"] == runs and values["epochs"] == 300
