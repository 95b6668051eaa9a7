"""Shared pieces for the run-store and job tests: a module-wide JobManager over a temporary store."""
import time

import pytest

from ltcore.runs import JobManager, RunStore


@pytest.fixture(scope="module")
def jobs_store(tmp_path_factory):
    """One store + JobManager (one worker slot, warm worker process) for a whole test module."""
    data = tmp_path_factory.mktemp("jobs_data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        mp.setenv("LTLAB_OFFLINE", "1")
        store = RunStore(data / "runs.sqlite")
        manager = JobManager(store, max_workers=1)
        yield manager, store
        manager.shutdown(kill=True)


@pytest.fixture
def wait_for():
    return poll_until


def poll_until(predicate, timeout=90.0, every=0.05):
    """Poll until `predicate()` is truthy; fails the test after `timeout` seconds (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"condition not reached within {timeout} s")
