"""The job system on a shared server: every user path is checked when a run is submitted and
again when the worker trains it; very large work is capped."""
from __future__ import annotations

import os

import pytest

from ltcore import Config, LTError


@pytest.fixture
def idle_manager(tmp_path):
    """A JobManager whose dispatcher is stopped: submissions queue up, no worker starts."""
    from ltcore.runs import JobManager, RunStore

    store = RunStore(tmp_path / "jobs" / "runs.sqlite")
    manager = JobManager(store, max_workers=1, warm=False)
    manager.shutdown()
    return manager, store


def test_submit_checks_init_from_and_caps_work(shared, idle_manager, monkeypatch):
    """item 2 (submit time) and item 16 (the shared server's caps)."""
    manager, store = idle_manager
    for params in ({"init_from": str(shared.outside / "weights.pt")},
                   {"init_from": str(shared.allowed / ".." / "outside" / "weights.pt")}):
        with pytest.raises(LTError, match="init_from: path .* is outside the folders"):
            manager.submit(Config(dataset="gaussians", method="transfer", method_params=params))
    monkeypatch.setenv("LTLAB_MAX_EPOCHS", "50")
    monkeypatch.setenv("LTLAB_MAX_QUEUE", "1")
    with pytest.raises(LTError, match="more than this shared server allows"):
        manager.submit(Config(dataset="gaussians", epochs=51))
    manager.submit(Config(dataset="gaussians", epochs=50))
    with pytest.raises(LTError, match="queue of this shared server is full"):
        manager.submit(Config(dataset="gaussians", epochs=50, seed=1))
    assert len(store.list_runs()) == 1


def test_the_worker_checks_paths_again(shared, monkeypatch):
    """A run stored with a path outside the roots (stored before the server became shared, or
    written into the store by hand) fails in the worker with the message; the file is not read."""
    from ltcore.runs import RunStore
    from ltcore.runs.execute import execute

    store = RunStore(shared.allowed / "runs.sqlite")
    planted = Config(dataset="gaussians", epochs=1, method="transfer",
                     method_params={"init_from": str(shared.outside / "weights.pt")})
    monkeypatch.setenv("LTLAB_SHARED", "0")          # the store takes it while the server was local
    _, run_id = store.claim(planted, os.getpid())
    monkeypatch.setenv("LTLAB_SHARED", "1")
    store.mark_running(run_id, os.getpid())
    assert execute(store, run_id) is None
    row = store.get(run_id)
    assert row["status"] == "failed" and "outside the folders" in row["error"]
