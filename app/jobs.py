"""The process-wide job system (ltcore.runs) as the UI sees it: one JobManager per data folder,
shared by every browser session; training runs in its worker processes, never on a script thread."""
from __future__ import annotations

import streamlit as st

from ltcore import Config, LTError, RunResult
from ltcore.data import default_data_dir

ACTIVE = ("queued", "running")
_STARTED: list = []  # every manager this process made (for shutdown_all)


@st.cache_resource(show_spinner=False)
def _store(data_dir: str):
    from ltcore.runs import RunStore

    return RunStore()


@st.cache_resource(show_spinner=False)
def _manager(data_dir: str):
    from ltcore.runs import JobManager

    manager = JobManager(store())
    _STARTED.append(manager)
    return manager


def store():
    """The run store under `$LTLAB_DATA` (reading results needs no job manager)."""
    return _store(str(default_data_dir()))


def manager():
    """The job manager under `$LTLAB_DATA` (one per process and data folder; it keeps a warm
    worker process, so pages that only read results never start it)."""
    return _manager(str(default_data_dir()))


def warm_up() -> None:
    """Start the job manager (and its warm worker, which imports torch) while the user reads the
    page, so the first run starts seconds sooner."""
    manager()


def shutdown_all() -> None:
    """End every manager's dispatcher and workers and forget them (tests; a server going down)."""
    while _STARTED:
        _STARTED.pop().shutdown(kill=True, timeout=10)
    for cache in (_manager, _store, _final_result):
        cache.clear()


def submit(configs: list[Config]) -> tuple[list[str], list[str]]:
    """Queue each config (a finished one comes back cached at once); returns (run ids, errors).
    Ids that were already done are remembered in the session, so their row says "already trained"."""
    ids, errors = [], []
    loaded = st.session_state.setdefault("_loaded_runs", set())
    for config in configs:
        try:
            before = done_run_for(config)
            ids.append(manager().submit(config))
            if before:
                loaded.add(before)
        except LTError as exc:
            errors.append(f"{config.method}: {exc}")
    return ids, errors


def status(run_id: str) -> dict | None:
    """The job's status dict, or None when the id is unknown to this store."""
    try:
        return manager().status(run_id)
    except (LTError, KeyError):
        return None


def statuses(run_ids: list[str]) -> dict[str, dict]:
    return {rid: s for rid in run_ids if (s := status(rid)) is not None}


def result(run_id: str) -> RunResult | None:
    """A finished (or stopped) run's result from the store, cached in this process once final."""
    row = store().get(run_id)
    if row is None or row["status"] in ACTIVE or not row["has_result"]:
        return None
    return _final_result(str(default_data_dir()), run_id, row["status"])


@st.cache_resource(show_spinner=False, max_entries=64)
def _final_result(data_dir: str, run_id: str, final_status: str) -> RunResult | None:
    return store().load_result(run_id)


def stop(run_id: str) -> None:
    manager().stop(run_id)


def stop_all() -> None:
    manager().stop_all()


def config(run_id: str) -> Config | None:
    """The configuration of a stored run (None when the id is unknown)."""
    row = store().get(run_id)
    return Config.from_dict(row["config"]) if row else None


def active() -> list[str]:
    """Ids of runs queued or running on this server (read from the store: starts no manager)."""
    return [row["run_id"] for status in ACTIVE for row in store().list_runs(status=status)]


def list_runs(**filters) -> list[dict]:
    """Summary rows of the store's runs, any status, newest first (filters as RunStore.list_runs)."""
    return list(store().list_runs(**filters))


def done_run_for(config: Config) -> str | None:
    """The id of a finished (done) run of exactly this config under the current code, if any."""
    run_id = store().run_id_for(config)
    row = store().get(run_id)
    return run_id if row and row["status"] == "done" else None
