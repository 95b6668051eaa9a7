"""The process-wide job system (ltcore.runs) as the UI sees it: one JobManager per data folder,
shared by every browser session; training runs in its worker processes, never on a script thread."""
from __future__ import annotations

import streamlit as st

from ltcore import Config, LTError, RunResult
from ltcore.data import default_data_dir

ACTIVE = ("queued", "running")


@st.cache_resource(show_spinner=False)
def _system(data_dir: str):
    from ltcore.runs import JobManager, RunStore

    store = RunStore()
    return store, JobManager(store)


def store():
    """The run store under `$LTLAB_DATA`."""
    return _system(str(default_data_dir()))[0]


def manager():
    """The job manager under `$LTLAB_DATA` (one per process and data folder)."""
    return _system(str(default_data_dir()))[1]


def submit(configs: list[Config]) -> tuple[list[str], list[str]]:
    """Queue each config (a finished one comes back cached at once); returns (run ids, errors)."""
    ids, errors = [], []
    for config in configs:
        try:
            ids.append(manager().submit(config))
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
    """A finished (or stopped) run's result, cached for the session's process once it is final."""
    s = status(run_id)
    if s is None or s["status"] in ACTIVE:
        return None
    return _final_result(str(default_data_dir()), run_id, s["status"])


@st.cache_resource(show_spinner=False, max_entries=64)
def _final_result(data_dir: str, run_id: str, final_status: str) -> RunResult | None:
    return manager().result(run_id)


def stop(run_id: str) -> None:
    manager().stop(run_id)


def stop_all() -> None:
    manager().stop_all()


def config(run_id: str) -> Config | None:
    """The configuration of a stored run (None when the id is unknown)."""
    row = store().get(run_id)
    return Config.from_dict(row["config"]) if row else None


def active() -> list[str]:
    return list(manager().active())


def finished_runs(**filters) -> list[dict]:
    """Rows of the runs in the store (newest first), as the store lists them."""
    return list(store().list_runs(**filters))


def done_run_for(config: Config) -> str | None:
    """The id of a finished (done) run of exactly this config under the current code, if any."""
    run_id = store().run_id_for(config)
    row = store().get(run_id)
    return run_id if row and row["status"] == "done" else None
