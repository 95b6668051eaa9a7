"""Issue 25 items 2, 3, 5: a copied data folder is a store of its own (paths relative to it), a
finished result survives an interrupted rerun, and a store another program holds locked is read
at once and reported busy within seconds."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from hostilehelpers import cli, refused

ROOT = Path(__file__).resolve().parents[2]
TINY = ("--dataset", "gaussians", "--epochs", "2", "--batch-size", "256", "--quiet")


def test_deleting_a_run_in_a_copied_folder_leaves_the_original_untouched(store_copy, tmp_path, monkeypatch, capsys):
    """item 2: `cp -r DATA COPY; LTLAB_DATA=COPY runs delete ID` deleted DATA's checkpoint."""
    folder, store, run_id = store_copy
    original = store.checkpoint_path(run_id)
    assert original.is_file() and original.is_relative_to(folder)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    monkeypatch.setenv("LTLAB_DATA", str(copy))
    code, out, err = cli(capsys, "runs", "delete", run_id)
    assert code == 0, err
    assert original.is_file()                               # the original folder keeps its weights
    assert not list((copy / "checkpoints").rglob("*.pt"))   # the copy's own were deleted
    with sqlite3.connect(folder / "runs.sqlite") as db:     # the store keeps a relative path
        (stored,) = db.execute("SELECT checkpoint FROM runs WHERE run_id=?", (run_id,)).fetchone()
    assert not Path(stored).is_absolute() and (folder / stored).resolve() == original.resolve()


def test_a_store_path_never_leads_outside_its_folder(store_copy, tmp_path):
    """Absolute paths kept by older versions are read inside the store's own folder; `..` is refused."""
    folder, store, run_id = store_copy
    assert store.located("/elsewhere/data/checkpoints/v1/x.pt") == folder.resolve() / "checkpoints/v1/x.pt"
    assert store.located("../outside/secret.pt") is None and store.located("/etc/passwd") is None


def test_an_interrupted_rerun_keeps_the_finished_result(capsys, monkeypatch, tmp_path):
    """item 3: `train` of a finished config, stopped by SIGTERM in epoch 1, deleted the result."""
    from ltcore.cli import train as cli_module
    from ltcore.errors import Terminated
    from ltcore.runs import RunStore

    code, out, err = cli(capsys, "train", *TINY)
    assert code == 0, err
    store = RunStore()
    (row,) = store.list_runs()
    before = store.load_result(row["run_id"])

    real_train = cli_module.train

    def sigterm_in_epoch_one(config, on_event=None, **kwargs):
        def first_epoch(event):
            on_event(event)
            if event["type"] == "epoch":
                raise Terminated()
        return real_train(config, on_event=first_epoch, **kwargs)

    monkeypatch.setattr(cli_module, "train", sigterm_in_epoch_one)
    code, out, err = cli(capsys, "train", *TINY)
    assert code == 143, err
    after = store.get(row["run_id"])
    assert after["status"] == "done" and after["has_result"], after
    assert "earlier result is kept" in after["error"]
    kept = store.load_result(row["run_id"])
    assert kept.balanced_acc == before.balanced_acc and len(store.history(row["run_id"])) == 2
    assert store.load_checkpoint(row["run_id"])


HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(120)
"""


def test_a_store_held_locked_is_read_at_once_and_a_write_is_reported_busy(store_copy, capsys):
    """item 5: another process holding the write lock made `runs list` wait (60 s × 200 retries)."""
    import threading

    folder, store, run_id = store_copy
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / "runs.sqlite")],
                              stdout=subprocess.PIPE, text=True)
    seen = {}

    def commands():
        for name, argv in (("list", ("runs", "list")), ("tag", ("runs", "tag", "mine", run_id))):
            t0 = time.monotonic()
            seen[name] = (*cli(capsys, *argv), time.monotonic() - t0)

    worker = threading.Thread(target=commands, daemon=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        worker.start()
        worker.join(timeout=40)
    finally:
        holder.kill()
        holder.wait()
        worker.join()
    code, out, err, seconds = seen["list"]
    assert code == 0 and run_id in out and seconds < 5, (code, err, seconds)
    code, out, err, seconds = seen["tag"]
    line = refused(code, out, err)
    assert "busy" in line and str(folder / "runs.sqlite") in line and seconds < 20, (line, seconds)


def test_a_rerun_stopped_from_the_dashboard_keeps_the_finished_result(store_copy, monkeypatch):
    """item 3, its variant: Stop during a rerun replaced the finished result by the partial one
    (and its weights)."""
    import os

    from ltcore.runs.execute import StopPoll, execute

    # the flag read at every step (the store is polled every 0.5 s: a tiny run can end before that)
    monkeypatch.setattr(StopPoll, "__call__", lambda self: self.store.stop_requested(self.run_id))

    folder, store, run_id = store_copy
    before = store.load_result(run_id)
    weights = store.checkpoint_path(run_id).read_bytes()
    state, same = store.claim(store.config(run_id), os.getpid(), force=True)
    assert (state, same) == ("queued", run_id)
    store.mark_running(run_id, os.getpid())
    execute(store, run_id, on_event=lambda e: store.request_stop(run_id) if e["type"] == "epoch" else None)
    row = store.get(run_id)
    assert row["status"] == "done" and "earlier result is kept" in row["error"], row
    assert store.load_result(run_id).balanced_acc == before.balanced_acc
    assert store.checkpoint_path(run_id).read_bytes() == weights and store.load_checkpoint(run_id)
