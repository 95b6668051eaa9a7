"""The process-wide job system (ltcore.runs) as the UI sees it: one JobManager per data folder,
shared by every browser session; training runs in its worker processes, never on a script thread."""
from __future__ import annotations

import streamlit as st

from ltcore import Config, LTError, RunResult
from ltcore.data import default_data_dir

from app.logic import memo as shared
from app.ui import trash

ACTIVE = ("queued", "running")
LIVE_SECONDS = 1.0
"""How old a status or store row shown to a session may be: every session watching a run shares
one read per run and second (changes made through this process are seen at once)."""
_STARTED: list = []  # every manager this process made (for shutdown_all)
_STATUS = shared.Memo(ttl=LIVE_SECONDS, max_entries=1024)
_ROW = shared.Memo(ttl=LIVE_SECONDS, max_entries=1024)
_LISTS = shared.Memo(ttl=LIVE_SECONDS, max_entries=64)
_ENDED = shared.Memo(max_entries=4096)    # statuses of ended runs, by attempt (see `statuses`)
_CONFIGS = shared.Memo(max_entries=4096)  # configurations by run id (an id is its config's hash)


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
    shared.clear_all()


def _changed(run_ids) -> None:
    """This process changed these runs: the next look at them reads the store again."""
    keys = [(str(default_data_dir()), rid) for rid in run_ids]
    _STATUS.forget(*keys)
    _ROW.forget(*keys)
    _LISTS.clear()


def submit(configs: list[Config]) -> tuple[list[str], list[str]]:
    """Queue each config (a finished one comes back cached at once); returns (run ids, errors).
    Ids that were already done are remembered in the session, so their row says "already trained";
    ids this session queued itself (not joined, not loaded) are its own (`started_here`). Only runs
    it queued changed: the shared statuses of runs it joined or loaded stay valid for the class."""
    ids, errors, changed = [], [], []
    loaded = st.session_state.setdefault("_loaded_runs", set())
    started = st.session_state.setdefault("_started_runs", set())
    for config in configs:
        try:
            state, run_id = manager().request(config)
        except LTError as exc:
            errors.append(f"{config.method}: {exc}")
            continue
        ids.append(run_id)
        if trash.restore([run_id]):            # asked for again while in a bin: it is wanted after all
            changed.append(run_id)
        if state == "cached":
            loaded.add(run_id)
        elif state == "queued":                # joined runs are someone else's
            started.add(run_id)
        if state == "queued" or not _shared_says(run_id, state):
            changed.append(run_id)
    if changed:
        _changed(changed)
    return ids, errors


def _shared_says(run_id: str, state: str) -> bool:
    """Whether what every session is shown of the run (its shared status, row and list row, where
    held) already agrees with what a request just found: "joined" → queued or running, "cached" →
    ended. Then nothing changed, and the class keeps its shared reads."""
    def agrees(entry) -> bool:
        return entry is not None and (entry["status"] in ACTIVE) == (state == "joined")

    key = (str(default_data_dir()), run_id)
    for memo in (_STATUS, _ROW):
        held, entry = memo.peek(key)
        if held and not agrees(entry):
            return False
    held, rows = _LISTS.peek((str(default_data_dir()), "list", ()))
    return not held or agrees(next((row for row in rows if row["run_id"] == run_id), None))


def status(run_id: str) -> dict | None:
    """The job's status dict (shared, at most LIVE_SECONDS old), or None when the id is unknown."""
    return _STATUS.get((str(default_data_dir()), run_id), lambda: _read_status(run_id))


def _read_status(run_id: str) -> dict | None:
    try:
        return manager().status(run_id)
    except (LTError, KeyError):
        return None


def statuses(run_ids: list[str]) -> dict[str, dict]:
    """`status` of many runs. An ended run's status no longer changes: it is read once per
    attempt (its store row's status, finish time and attempt count, from the shared run list) and
    kept, so a page with ten finished runs reads no history from the store on a rerun."""
    rows = {row["run_id"]: row for row in list_runs()}
    out = {}
    for rid in run_ids:
        row = rows.get(rid)
        if row is None or row["status"] in ACTIVE:
            found = status(rid)
        else:
            key = (str(default_data_dir()), rid, row["status"], row["finished"], row["attempts"])
            found = _ENDED.get(key, lambda rid=rid: _read_status(rid))
            if found is None or found["status"] in ACTIVE:  # started again since the list was read
                _ENDED.forget(key)
        if found is not None:
            out[rid] = found
    return out


def result(run_id: str) -> RunResult | None:
    """A finished (or stopped) run's result from the store, cached in this process once final."""
    row = _row(run_id)
    if row is not None and row["status"] in ACTIVE:  # it may have ended since: look again
        key = (str(default_data_dir()), run_id)
        _ROW.forget(key)
        row = _row(run_id)
        if row is not None and row["status"] not in ACTIVE:
            _STATUS.forget(key)  # so every session's next status says so too
    if row is None or row["status"] in ACTIVE or not row["has_result"]:
        return None
    return _final_result(str(default_data_dir()), run_id, row["status"])


def results(run_ids: list[str]) -> dict[str, RunResult | None]:
    """`result` of many runs from one shared read of the store's run list (not one store query
    per run): what Compare and Geometry need on every rerun."""
    rows = {row["run_id"]: row for row in list_runs()}
    out = {}
    for rid in run_ids:
        row = rows.get(rid)
        if row is None or row["status"] in ACTIVE:
            out[rid] = None if row is None else result(rid)  # unknown, or it may have ended since
            continue
        try:
            out[rid] = _final_result(str(default_data_dir()), rid, row["status"])
        except LTError:  # ended without a result (stopped while queued, crashed)
            out[rid] = None
    return out


@st.cache_resource(show_spinner=False, max_entries=64)
def _final_result(data_dir: str, run_id: str, final_status: str) -> RunResult | None:
    return store().load_result(run_id)


def _row(run_id: str) -> dict | None:
    """The run's store row (shared, at most LIVE_SECONDS old)."""
    return _ROW.get((str(default_data_dir()), run_id), lambda: store().get(run_id))


def stop(run_id: str) -> None:
    manager().stop(run_id)
    _changed([run_id])


def stop_all() -> None:
    manager().stop_all()
    _STATUS.clear()
    _ROW.clear()
    _LISTS.clear()


def rerun(run_id: str) -> str:
    """Train a stopped, failed or interrupted run again; returns the new run's id."""
    new_id = manager().rerun(run_id)
    _changed([run_id, new_id])
    return new_id


def config(run_id: str) -> Config | None:
    """The configuration of a stored run (None when the id is unknown); kept once read, since a
    run id is the hash of its configuration."""
    key = (str(default_data_dir()), run_id)
    found = _CONFIGS.get(key, lambda: Config.from_dict(row["config"]) if (row := _row(run_id)) else None)
    if found is None:
        _CONFIGS.forget(key)
    return found


def active() -> list[str]:
    """Ids of runs queued or running on this server (read from the store: starts no manager)."""
    return _LISTS.get((str(default_data_dir()), "active"), lambda: [
        row["run_id"] for status in ACTIVE for row in store().list_runs(status=status)])


def any_runs() -> bool:
    """Whether the store holds any run at all (shared, at most LIVE_SECONDS old)."""
    hidden = trash.hidden()
    if hidden:
        return any(row["run_id"] not in hidden for row in list_runs())
    return _LISTS.get((str(default_data_dir()), "any"), lambda: bool(store().list_runs(limit=1)))


def list_runs(**filters) -> list[dict]:
    """Summary rows of the store's runs, any status, newest first (filters as RunStore.list_runs);
    shared by every session for at most LIVE_SECONDS. Rows are shared: do not mutate them."""
    key = (str(default_data_dir()), "list", tuple(sorted(filters.items())))
    rows = _LISTS.get(key, lambda: list(store().list_runs(**filters)))
    hidden = trash.hidden()
    return [row for row in rows if row["run_id"] not in hidden] if hidden else rows


def started_here(run_id: str) -> bool:
    """Whether this browser session queued the run itself (what it may delete on a shared server)."""
    return run_id in st.session_state.get("_started_runs", ())


def delete(run_ids: list[str], data_dir: str | None = None) -> tuple[list[str], list[str]]:
    """Delete runs from the store (not active ones) for good; returns (deleted ids, one message per
    refusal). The UI deletes through `trash` (Undo while the session lasts)."""
    done, errors = [], []
    for rid in run_ids:
        try:
            (_store(data_dir) if data_dir else store()).delete(rid)
            done.append(rid)
        except LTError as exc:
            errors.append(str(exc))
    _changed(run_ids)
    _final_result.clear()
    return done, errors


def forget_lists() -> None:
    """The store's run lists changed in a way the memos cannot see (a run moved to or out of a bin)."""
    _LISTS.clear()


def tag(run_ids: list[str], name: str, remove: bool = False) -> None:
    """Add a tag to runs, or remove it (stored in the run store; raises LTError for a bad tag)."""
    store().tag(run_ids, name, remove=remove)
    _LISTS.clear()


def done_run_for(config: Config) -> str | None:
    """The id of a finished (done) run of exactly this config under the current code, if any."""
    run_id = store().run_id_for(config)
    row = _row(run_id)
    return run_id if row and row["status"] == "done" else None
