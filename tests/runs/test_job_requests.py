"""JobManager.request: a class asking for a run that is in flight or done joins it with one read
each, without the queue's lock or the store's write lock (no worker process is started here)."""
import os
import threading

from ltcore import Config
from ltcore.runs import JobManager, RunStore


def test_thirty_requests_for_a_queued_then_done_run_take_no_lock_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    store = RunStore(tmp_path / "runs.sqlite")
    manager = JobManager(store, max_workers=1, warm=False)
    config = Config(epochs=2, seed=5)
    state, run_id = store.claim(config, os.getpid())          # queued by a live server process
    assert state == "queued"
    writes = []
    real_tx = store._tx
    monkeypatch.setattr(store, "_tx", lambda: writes.append(1) or real_tx())  # counts write transactions

    def ask_thirty() -> list:
        answers, before = [], len(writes)
        with manager._cond:                                  # the queue is busy the whole time
            threads = [threading.Thread(target=lambda: answers.append(manager.request(config)))
                       for _ in range(30)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert len(writes) == before                         # nobody wrote to the store
        return answers

    assert ask_thirty() == [("joined", run_id)] * 30
    store.mark_finished(run_id, "done")
    assert ask_thirty() == [("cached", run_id)] * 30
    assert manager.submit(config) == run_id and store.get(run_id)["status"] == "done"
    manager.shutdown()                                       # nothing dispatches what follows
    store.mark_finished(run_id, "stopped")
    before = len(writes)
    assert manager.request(config) == ("queued", run_id)     # a stopped run is queued again: one write
    assert len(writes) == before + 1 and store.get(run_id)["status"] == "queued"
