"""JobManager: worker subprocesses, dedup, stop, NaN, kill -9, restart recovery, config checks."""
import os
import signal
import sqlite3
import subprocess
import sys
import threading

import pytest

from ltcore import Config, ConfigError, LTError
from ltcore.errors import UnknownNameError
from ltcore.runs import JobManager

pytestmark = pytest.mark.slow  # worker processes: about 20 s on two cores

LONG = 400  # epochs: minutes if Stop or kill did not work; the tests end it after an epoch or two


@pytest.fixture(autouse=True)
def nothing_left_running(jobs_store):
    """A failed test must not leave its long runs holding the one worker slot for the next tests."""
    yield
    jobs_store[0].stop_all()


def test_identical_configs_at_once_train_once_and_then_come_cached(jobs_store):
    manager, store = jobs_store
    config = Config(epochs=2, seed=11, device="cpu")
    ids, barrier = [], threading.Barrier(6)

    def student():
        barrier.wait()
        ids.append(manager.submit(config))
    threads = [threading.Thread(target=student) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    run_id = ids[0]
    final = manager.wait(run_id, timeout=120)
    assert final["status"] == "done" and final["epoch"] == 2 and len(final["history"]) == 2
    assert final["cached"] is False and final["device"] == "cpu"
    assert store.get(run_id)["attempts"] == 1
    result = manager.result(run_id)
    assert result.status == "done" and result.epochs_completed == 2 and len(result.per_class_acc) == 10
    assert store.load_checkpoint(run_id)["classifier.weight"].shape[0] == 10
    # a later request and a fresh manager (a server restart) return the stored run without training
    assert manager.submit(config) == run_id and run_id not in manager.active()
    restarted = JobManager(store, warm=False)
    assert restarted.submit(config) == run_id and restarted.active() == []
    assert restarted.status(run_id)["cached"] is True and store.get(run_id)["attempts"] == 1
    restarted.shutdown()


def test_nan_loss_fails_with_the_epoch_and_is_not_retrained(jobs_store):
    manager, store = jobs_store
    config = Config(epochs=3, lr=1e6, seed=12)
    run_id = manager.submit(config)
    final = manager.wait(run_id, timeout=120)
    assert final["status"] == "failed"
    assert "loss became nan in epoch" in final["error"] and "smaller learning rate" in final["error"]
    result = manager.result(run_id)
    assert result.status == "failed" and result.epochs_completed < 3
    assert manager.submit(config) == run_id and store.get(run_id)["attempts"] == 1


def test_stop_a_queued_and_a_running_run(jobs_store, wait_for):
    manager, store = jobs_store
    first = manager.submit(Config(epochs=LONG, seed=13))
    wait_for(lambda: manager.status(first)["status"] == "running")   # the slot may still be freeing up
    second = manager.submit(Config(epochs=LONG, seed=14))  # one slot: this one waits in the queue
    assert manager.status(second)["status"] == "queued" and manager.status(second)["queue_position"] == 0
    manager.stop(second)
    assert manager.status(second)["status"] == "stopped" and manager.result(second) is None
    wait_for(lambda: manager.status(first)["epoch"] >= 1)
    manager.stop_all()
    final = manager.wait(first, timeout=60)
    assert final["status"] == "stopped" and 1 <= final["epoch"] < LONG
    result = manager.result(first)
    assert result.status == "stopped" and len(result.history) == final["epoch"]
    assert manager.active() == []


def test_kill_9_of_a_worker_leaves_a_consistent_interrupted_run(jobs_store, wait_for):
    manager, store = jobs_store
    run_id = manager.submit(Config(epochs=LONG, seed=16))
    wait_for(lambda: manager.status(run_id)["epoch"] >= 1)
    os.kill(store.get(run_id)["worker_pid"], signal.SIGKILL)
    final = manager.wait(run_id, timeout=30)
    assert final["status"] == "interrupted" and "signal 9" in final["error"]
    assert manager.result(run_id) is None and 1 <= len(final["history"]) < LONG
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert manager.rerun(run_id) == run_id and manager.status(run_id)["status"] in ("queued", "running")
    assert manager.status(run_id)["history"] == []
    manager.stop(run_id)
    assert manager.wait(run_id, timeout=60)["status"] == "stopped"


def test_runs_left_by_a_dead_server_are_interrupted_and_rerun_with_one_call(jobs_store):
    manager, store = jobs_store
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _, queued = store.claim(Config(epochs=1, seed=17), owner_pid=gone.pid)
    _, running = store.claim(Config(epochs=1, seed=18), owner_pid=gone.pid)
    store.mark_running(running, gone.pid)
    restarted = JobManager(store, warm=False)
    assert {queued, running} <= set(restarted.interrupted_on_start)
    assert restarted.status(running)["status"] == "interrupted"
    restarted.shutdown()
    assert manager.rerun(queued) == queued
    assert manager.wait(queued, timeout=120)["status"] == "done"


def test_bad_configs_and_refused_paths_raise_at_submit(jobs_store, tmp_path, monkeypatch):
    manager, store = jobs_store
    with pytest.raises(UnknownNameError, match="method"):
        manager.submit(Config(method="no_such_method"))
    with pytest.raises(ConfigError, match="epochs"):
        manager.submit({"epochs": 0})
    with pytest.raises(ConfigError, match="unknown config key"):
        manager.submit({"epoch": 3})
    monkeypatch.setenv("LTLAB_SHARED", "1")
    monkeypatch.setenv("LTLAB_ALLOWED_ROOTS", str(tmp_path))
    with pytest.raises(LTError, match="outside the folders"):
        manager.submit(Config(dataset="imagefolder", data_path="/etc"))
    with pytest.raises(LTError, match="no run"):
        manager.status("0123456789ab-nothing")


def _run_id_teacher(store, teacher):
    return Config(epochs=1, seed=teacher.seed, device="cpu", method="bkd",
                  method_params={"kd_teacher": store.run_id_for(teacher)})


def _same_seed_teacher(store, teacher):
    """`kd_teacher = "@ce"`: the teacher is this config with method ce (a lesson's own ce run)."""
    return teacher.replace(method="kd", method_params=[["kd_teacher", "@ce"]])


@pytest.mark.parametrize("seed, make_student", [(21, _run_id_teacher), (22, _same_seed_teacher)],
                         ids=["run-id teacher", "same-seed @ce teacher"])
def test_a_student_queued_with_its_teacher_starts_once_the_teacher_is_done(tmp_path, monkeypatch, seed,
                                                                           make_student):
    """Two free slots, teacher and student queued together (a lesson does this): the student waits
    for its teacher's checkpoint instead of failing with "no run matches"."""
    from ltcore.runs import RunStore

    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    store = RunStore(tmp_path / "runs.sqlite")
    manager = JobManager(store, max_workers=2, warm=False)
    try:
        teacher = Config(epochs=3, seed=seed, device="cpu")
        student = make_student(store, teacher)
        t_id, s_id = manager.submit(teacher), manager.submit(student)
        final = manager.wait(s_id, timeout=240)
        assert final["status"] == "done", final["error"]
        assert store.get(s_id)["started"] >= store.get(t_id)["finished"]
    finally:
        manager.shutdown(kill=True)
