"""Runs trained into a store for tests, exactly as a worker process trains and records them."""
from __future__ import annotations

import os


def train_into(store, config) -> str:
    """Train `config` in this process as a worker does (history, result, checkpoint) and record it in
    `store`; an identical finished run is reused. Returns the run id."""
    from ltcore.runs.execute import execute

    state, run_id = store.claim(config, os.getpid())
    if state == "queued":
        store.mark_running(run_id, os.getpid())
        execute(store, run_id)
    return run_id
