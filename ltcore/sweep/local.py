"""The `local` backend: the store's own job queue (ltcore.runs.JobManager) on this machine, with
`workers` runs at once (on a GPU several small runs share it); progress is read from the store."""
from __future__ import annotations

import os
import time

from .progress import FINAL, Progress


def run_local(store, configs, run_ids: list[str], cached: int, progress: Progress, report,
              workers: int | None = None, stop_wait: float = 60.0, poll: float = 0.3) -> bool:
    """Train `configs` (not yet finished in the store) with a JobManager of `workers` slots and
    wait for them; `run_ids` are every run of the sweep (for the progress counts). Ctrl-C stops the
    sweep's runs (queued ones at once, running ones after their current step: status `stopped`)
    and returns False; a second Ctrl-C ends the workers at once."""
    from ..runs import JobManager, default_workers

    workers = max(workers or default_workers(), 1)
    threads = max((os.cpu_count() or 2) // workers, 1)
    # own process groups: a Ctrl-C in the terminal reaches the driver, which stops the runs cleanly
    manager = JobManager(store, max_workers=workers, threads=threads, warm=bool(configs), own_session=True)
    submitted = []
    try:
        for config in configs:
            submitted.append(manager.submit(config))
        _watch(store, run_ids, cached, progress, report, poll)
        return True
    except KeyboardInterrupt:
        for run_id in submitted:
            manager.stop(run_id)
        try:
            _watch(store, run_ids, cached, progress, report, poll, deadline=time.monotonic() + stop_wait)
        except KeyboardInterrupt:
            pass
        return False
    finally:
        manager.shutdown(kill=True, timeout=10)


def _watch(store, run_ids, cached, progress, report, poll, deadline=None) -> None:
    while True:
        statuses = {rid: (store.get(rid) or {}).get("status", "queued") for rid in run_ids}
        progress.update(statuses, cached)
        report(progress)
        if all(s in FINAL for s in statuses.values()):
            return
        if deadline is not None and time.monotonic() > deadline:
            return
        time.sleep(poll)
