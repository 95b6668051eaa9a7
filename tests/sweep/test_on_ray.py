"""Sweeps and `reproduce --backend ray` on a real (loopback) Ray cluster: the store is the single
source of truth, faults are retried and recorded once, GPU trials on a GPU-less cluster are refused
up front, a table's runs train as Ray trials into the same store so a second invocation trains
nothing. One file, so one Ray head serves them all (make test keeps a file on one worker)."""
from __future__ import annotations

import csv
import os
import signal
import threading
import time

import pytest

from ltcore import Config
from ltcore.cli import main
from ltcore.runs import RunStore
from ltcore.sweep import SweepSpec, run_sweep

pytestmark = pytest.mark.slow
GRID = ["sweep", "--dataset", "digits", "--methods", "ce,balanced_softmax", "--ratios", "10,50", "--seeds", "0",
        "--epochs", "2", "--backend", "ray", "--quiet"]


def test_grid_on_ray_stores_every_run_with_history_and_a_second_sweep_submits_nothing(ray_address, capsys):
    assert main([*GRID, "--address", ray_address]) == 0
    err = capsys.readouterr().err
    assert "submitting 4 to ray" in err
    store = RunStore()
    rows = store.list_runs()
    assert len(rows) == 4 and {r["status"] for r in rows} == {"done"}
    for row in rows:
        history = store.history(row["run_id"])
        assert [h["epoch"] for h in history] == [1, 2]          # written by the driver as Tune reported
        assert history[-1]["worker"]["pid"] != os.getpid()      # trained in a Ray worker, not here
        result = store.load_result(row["run_id"])               # result + arrays stored once
        assert result.per_class_acc and result.status == "done"
        assert store.get(row["run_id"])["checkpoint"]
    assert main([*GRID, "--address", ray_address]) == 0
    assert "4 already in the store, submitting 0" in capsys.readouterr().err
    assert [r["finished"] for r in store.list_runs()] == [r["finished"] for r in rows]  # nothing re-trained


def test_a_killed_ray_worker_is_retried_and_the_run_stored_once(ray_address):
    store = RunStore()
    spec = SweepSpec(Config(dataset="digits", ratio=10, epochs=12), methods=("ce",), ratios=(10,), seeds=(3,))
    run_id = store.run_id_for(spec.configs()[0])
    killed = []

    def kill_first_worker():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            history = store.history(run_id) if store.get(run_id) else []
            if history and history[-1]["epoch"] < 9:
                pid = history[-1]["worker"]["pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, history[-1]["epoch"]))
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_worker, daemon=True)
    killer.start()
    outcome = run_sweep(spec, store, "ray", address=ray_address)
    killer.join(1)
    assert killed, "the trial finished before its worker could be killed"
    row = store.get(run_id)
    assert row["status"] == "done" and row["attempts"] == 2   # the first try died, Tune retried it
    assert outcome.statuses == {run_id: "done"}
    assert len(store.list_runs()) == 1                        # recorded exactly once
    history = store.history(run_id)
    assert [h["epoch"] for h in history] == list(range(1, 13))  # each epoch once, from the retry
    assert {h["worker"]["pid"] for h in history} != {killed[0][0]}


def test_gpu_trials_on_a_cluster_without_gpus_are_refused_up_front(ray_address, capsys):
    t0 = time.monotonic()
    assert main([*GRID, "--address", ray_address, "--gpus-per-trial", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "asks for a GPU" in err and "has no GPUs" in err
    assert time.monotonic() - t0 < 60
    assert all(r["status"] != "queued" for r in RunStore().list_runs())  # nothing left waiting


def test_an_unreachable_cluster_is_one_clear_line(capsys):
    from raycluster import free_ports

    port = free_ports(1)[0]
    assert main([*GRID, "--address", f"127.0.0.1:{port}"]) == 2
    assert "could not connect to the Ray cluster" in capsys.readouterr().err


def test_a_two_sample_search_picks_the_best_value_on_the_validation_split(ray_address, capsys):
    args = ["sweep", "--dataset", "digits", "--methods", "la_loss", "--ratios", "50", "--seeds", "0", "--epochs", "3",
            "--param", "tau=0.25:3", "--search", "random", "--samples", "2", "--backend", "ray",
            "--address", ray_address, "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    store = RunStore()
    results = [store.load_result(r["run_id"]) for r in store.list_runs()]
    assert len(results) == 2
    taus = [dict(r.config.method_params)["tau"] for r in results]
    assert taus[0] != taus[1] and all(0.25 <= t <= 3 for t in taus)
    best = max(results, key=lambda r: r.metrics["val_balanced_acc"])
    tau = dict(best.config.method_params)["tau"]
    assert f"best for la_loss at ρ=50: tau={tau:g} (chosen on the validation split: balanced " \
           f"{100 * best.metrics['val_balanced_acc']:.2f}%) → test balanced {100 * best.balanced_acc:.2f}%" in out


def test_a_table_trains_on_ray_into_the_store_and_resumes_from_it(ray_address, tmp_path, capsys):
    args = ["reproduce", "mnist1d-lt", "--dataset", "digits", "--methods", "ce,balanced_softmax", "--ratios", "10",
            "--seeds", "0", "--epochs", "2", "--backend", "ray", "--address", ray_address]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "0 of 2 runs already in the store; training 2 as Ray trials at " + ray_address in capsys.readouterr().err
    store = RunStore()
    runs = store.list_runs()
    assert len(runs) == 2 and {r["status"] for r in runs} == {"done"}
    for row in runs:
        assert store.history(row["run_id"])[-1]["worker"]["pid"] != os.getpid()  # trained in a Ray worker
    (path,) = (tmp_path / "a").glob("*.csv")
    with open(path, newline="") as fh:
        table = {r["method"]: r for r in csv.DictReader(fh)}
    assert (set(table) == {"ce", "balanced_softmax"}
            and all(r["seeds"] == "1" and r["ours_mean"] for r in table.values()))
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "2 of 2 runs already in the store; training 0" in capsys.readouterr().err
    assert [r["finished"] for r in store.list_runs()] == [r["finished"] for r in runs]  # nothing re-trained
    assert (tmp_path / "b" / path.name).read_text() == path.read_text()


def test_a_distillation_sweep_on_ray_learns_from_its_stored_teacher(ray_address, capsys):
    """Issue 25 item 10: kd/bkd with a stored or `@ce` teacher on Ray was a raw trial traceback
    (the trial had no store to look its teacher up in); the driver now ships the teacher."""
    from ltcore.runs.execute import execute

    store = RunStore()
    teacher = Config(dataset="digits", ratio=10, epochs=2)
    _, teacher_id = store.claim(teacher, os.getpid())
    store.mark_running(teacher_id, os.getpid())
    assert execute(store, teacher_id) is not None
    args = ["sweep", "--dataset", "digits", "--method", "bkd", "--methods", "bkd", "--param", "kd_teacher=@ce",
            "--ratios", "10", "--seeds", "0", "--epochs", "2", "--backend", "ray", "--address", ray_address, "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    (student,) = [r for r in store.list_runs() if r["method"] == "bkd"]
    assert student["status"] == "done" and store.history(student["run_id"])[-1]["worker"]["pid"] != os.getpid()
