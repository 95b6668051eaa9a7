"""Workers yield the CPU to the dashboard (issue 22 item 9): a lower priority than the server and
a torch thread count that leaves the server a core."""
import os
import time

import pytest

from ltcore.runs import JobManager, RunStore

pytestmark = pytest.mark.slow  # one warm worker process: a few seconds


def test_a_worker_runs_at_a_lower_cpu_priority_with_a_core_left_for_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    monkeypatch.delenv("LTLAB_WORKER_NICE", raising=False)
    manager = JobManager(RunStore(tmp_path / "runs.sqlite"), max_workers=1)
    try:
        slot = manager._workers[0]
        pid = poll_until(lambda: slot.proc is not None and slot.proc.pid)
        server = os.getpriority(os.PRIO_PROCESS, 0)
        poll_until(lambda: os.getpriority(os.PRIO_PROCESS, pid) > server, timeout=60)
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(server + 10, 19)
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        assert int(env[b"LTLAB_WORKER_THREADS"]) <= max((os.cpu_count() or 2) - 1, 1)
    finally:
        manager.shutdown(kill=True)


def poll_until(predicate, timeout=90.0):
    """The first truthy `predicate()`; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"condition not reached within {timeout} s")
