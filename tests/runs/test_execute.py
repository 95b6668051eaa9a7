"""Failures reach the store as one readable line: OOM advice, missing data, any other exception."""
import os

import pytest
import torch

from ltcore import Config
from ltcore.runs import RunStore
from ltcore.runs import execute as execute_module
from ltcore.runs.execute import describe_failure, execute


def test_oom_message_suggests_half_the_batch():
    config = Config(batch_size=256)
    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    message = describe_failure(oom, config, "log")
    assert "out of GPU memory at batch size 256" in message and "e.g. 128" in message
    mps = RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)")
    assert "smaller batch size" in describe_failure(mps, Config(batch_size=1), "log")


def started(store, config):
    _, run_id = store.claim(config)
    store.mark_running(run_id, os.getpid())
    return run_id


def test_missing_data_is_recorded_with_what_to_download(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = started(store, Config(dataset="cifar10", epochs=1))
    assert execute(store, run_id, data_dir=tmp_path / "empty") is None
    row = store.get(run_id)
    assert row["status"] == "failed" and "cifar-10-python.tar.gz" in row["error"]
    assert "Traceback" not in row["error"]


def test_other_exceptions_give_one_line_and_keep_the_traceback(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("shapes do not match\nsecond line")
    monkeypatch.setattr(execute_module, "train", broken)
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = started(store, Config(epochs=1))
    assert execute(store, run_id) is None
    error = store.get(run_id)["error"]
    assert error.startswith("ValueError: shapes do not match (full log: ") and "second line" not in error
    log = store.log_path(run_id).read_text()
    assert "Traceback" in log and "second line" in log


def test_a_stop_requested_before_start_trains_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(execute_module, "train", lambda *a, **k: pytest.fail("trained"))
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = started(store, Config(epochs=1))
    store.request_stop(run_id)
    assert execute(store, run_id) is None
    assert store.get(run_id)["status"] == "stopped"
