"""Run store: round trip of a real result with arrays, claims (dedup rule), recovery, concurrency."""
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import torch

from ltcore import Config, LTError, train
from ltcore.runs import RunStore, store_run_id

CONFIG = Config(epochs=2, seed=3)


@pytest.fixture(scope="module")
def trained():
    """A real 2-epoch digits run with array extras the way metrics code stores them."""
    result = train(CONFIG)
    result.extras.update({"features": torch.randn(7, 4), "confusion": np.eye(3, dtype=np.int64),
                          "snapshots": {"2": torch.ones(2, 2, dtype=torch.bfloat16)}})
    return result


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_round_trip_restores_numbers_history_and_arrays(tmp_path, trained):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.save_result(trained)
    assert run_id == store_run_id(CONFIG) and run_id.startswith(CONFIG.run_id + "-")
    loaded = store.load_result(run_id)
    assert loaded.config == CONFIG and loaded.status == "done"
    assert loaded.per_class_acc == trained.per_class_acc and loaded.shot_acc == trained.shot_acc
    assert loaded.history == json.loads(json.dumps(trained.history))
    assert store.history(run_id) == loaded.history and len(loaded.history) == 2
    assert torch.equal(loaded.extras["features"], trained.extras["features"])
    assert isinstance(loaded.extras["confusion"], np.ndarray)
    assert loaded.extras["confusion"].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert loaded.extras["snapshots"]["2"].dtype == torch.float32  # bf16 stored as float32
    [row] = store.list_runs()
    assert row["run_id"] == run_id and row["status"] == "done" and row["epoch"] == 2
    assert row["overall_acc"] == pytest.approx(trained.overall_acc)
    assert store.list_runs(dataset="gaussians") == [] and store.list_runs(status="failed") == []


def test_corrupt_array_file_is_reported_not_loaded(tmp_path, trained):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.save_result(trained)
    [npy] = [p for p in store.array_dir(run_id).rglob("*.npy") if "features" in p.name]
    blob = bytearray(npy.read_bytes())
    blob[-1] ^= 0xFF
    npy.write_bytes(bytes(blob))
    with pytest.raises(LTError, match="checksum"):
        store.load_result(run_id)


def test_export_and_delete(tmp_path, trained):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.save_result(trained)
    runs_csv, history_csv, runs_json = store.export([run_id], tmp_path / "out")
    lines = runs_csv.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("run_id,status,dataset")
    assert lines[1].startswith(f"{run_id},done,digits")
    assert len(history_csv.read_text().splitlines()) == 1 + 2
    [record] = json.loads(runs_json.read_text())
    assert record["result"]["extras"]["features"] == {"array_shape": [7, 4], "dtype": "torch.float32"}
    assert {a["key"].split("_", 1)[1] for a in record["arrays"]} == {"extras.features", "extras.confusion",
                                                                     "extras.snapshots.2"}
    store.delete(run_id)
    assert store.get(run_id) is None and not store.array_dir(run_id).exists()
    with pytest.raises(LTError):
        store.load_result(run_id)


def test_claim_is_the_dedup_rule(tmp_path, trained):
    store = RunStore(tmp_path / "runs.sqlite")
    assert store.claim(CONFIG) == ("queued", store_run_id(CONFIG))
    assert store.claim(CONFIG)[0] == "joined"  # queued by a live process (this one)
    store.save_result(trained)
    assert store.claim(CONFIG)[0] == "cached"
    assert store.claim(CONFIG, force=True)[0] == "queued"
    assert store.history(store_run_id(CONFIG)) == []  # a new attempt starts with an empty history


def test_code_version_is_part_of_the_run_id(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs.sqlite")
    monkeypatch.setenv("LTLAB_CODE_VERSION", "v1")
    assert store.claim(CONFIG) == ("queued", f"{CONFIG.run_id}-v1")
    monkeypatch.setenv("LTLAB_CODE_VERSION", "v2")
    assert store.claim(CONFIG) == ("queued", f"{CONFIG.run_id}-v2")
    monkeypatch.setenv("LTLAB_CODE_VERSION", "../x")
    with pytest.raises(LTError):
        store.run_id_for(CONFIG)


def test_recover_marks_only_runs_of_dead_processes(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    gone = dead_pid()
    _, orphan_queued = store.claim(Config(seed=1), owner_pid=gone)
    _, dead_running = store.claim(Config(seed=2))
    store.mark_running(dead_running, gone)
    _, live_running = store.claim(Config(seed=3))
    store.mark_running(live_running, os.getpid())
    assert sorted(store.recover()) == sorted([orphan_queued, dead_running])
    assert store.get(orphan_queued)["status"] == "interrupted"
    assert "re-run" in store.get(dead_running)["error"]
    assert store.get(live_running)["status"] == "running"


def _hammer(path, worker, barrier, errors):
    try:
        barrier.wait()
        store = RunStore(path)
        for i in range(80):
            _, run_id = store.claim(Config(seed=1000 * worker + i), owner_pid=os.getpid())
            store.mark_running(run_id, os.getpid())
            store.add_epoch(run_id, {"epoch": 1, "loss": float(i)})
            store.request_stop(run_id)
            store.mark_finished(run_id, "stopped", "test")
            store.list_runs(limit=5)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        import traceback
        errors.put(traceback.format_exc())


def test_two_processes_write_at_once_without_locking_errors(tmp_path):
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    barrier, errors = ctx.Barrier(2), ctx.Queue()
    path = tmp_path / "shared.sqlite"  # created by the two writers at the same moment
    procs = [ctx.Process(target=_hammer, args=(path, w, barrier, errors)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    found = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert found == [] and [p.exitcode for p in procs] == [0, 0]
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM runs WHERE status='stopped'").fetchone()[0] == 160
    assert db.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 160
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_stores_made_before_result_summaries_still_list(tmp_path, trained):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.save_result(trained)
    db = sqlite3.connect(store.path)
    db.execute("ALTER TABLE results DROP COLUMN summary")
    db.commit()
    db.close()
    [row] = RunStore(store.path).list_runs()  # reopening adds the column back; the old row is parsed
    assert row["run_id"] == run_id and row["balanced_acc"] == pytest.approx(trained.balanced_acc)
