"""Run store (SQLite, WAL), background jobs in worker processes, and shared-server safety.

    from ltcore.runs import RunStore, JobManager
    jobs = JobManager(RunStore())          # one per process (the UI wraps it in st.cache_resource)
    run_id = jobs.submit(Config(epochs=5))  # returns at once; identical configs train once
    jobs.status(run_id)["history"]          # live per-epoch rows, readable from any process
"""
from .jobs import JobManager, default_workers
from ..engine.checkpoints import load_user_checkpoint
from ..safety import allowed_roots, check_path, shared_mode
from .store import STATUSES, RunStore
from ..version import code_version, store_run_id

__all__ = ["JobManager", "RunStore", "STATUSES", "allowed_roots", "check_path", "code_version",
           "default_workers", "load_user_checkpoint", "shared_mode", "store_run_id"]
