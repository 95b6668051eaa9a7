"""Deleted runs stay recoverable while the browser session that deleted them lasts: "Yes, delete"
puts them in this process-wide bin (hidden from every session's tables and pickers), Undo takes
them out again, and they leave the store for good when that session ends, when the user empties
the bin, or when the server stops. As in a mail client's trash, a wrong click costs nothing."""
from __future__ import annotations

import atexit
import threading
import time

_LOCK = threading.Lock()
_BIN: dict[tuple[str, str], tuple[str, float]] = {}  # (data folder, run id) → (deleting session, when)
_SWEPT = [0.0]
SWEEP_SECONDS = 5.0
"""How often the bin looks for sessions that ended (their runs are then deleted for good)."""


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _alive(session_id: str) -> bool:
    from streamlit import runtime

    if not runtime.exists():  # no server to ask (a test's AppTest): the session is taken to last
        return True
    return bool(session_id) and runtime.get_instance().is_active_session(session_id)


def _folder() -> str:
    from ltcore.data import default_data_dir

    return str(default_data_dir())


def put(run_ids: list[str]) -> None:
    """Move runs into the bin of this session (they vanish from every view at once)."""
    sid, now, folder = _session_id(), time.time(), _folder()
    with _LOCK:
        for rid in run_ids:
            _BIN[(folder, rid)] = (sid, now)


def restore(run_ids: list[str], folder: str | None = None) -> list[str]:
    """Take runs out of the bin (Undo; a run requested again); returns the ones that were in it."""
    folder = folder or _folder()
    with _LOCK:
        return [rid for rid in run_ids if _BIN.pop((folder, rid), None) is not None]


def mine() -> list[str]:
    """This session's binned runs, the most recently deleted first."""
    sid, folder = _session_id(), _folder()
    with _LOCK:
        return [rid for (where, rid), (owner, _) in sorted(_BIN.items(), key=lambda kv: -kv[1][1])
                if owner == sid and where == folder]


def hidden() -> set[str]:
    """Every binned run (of any session): no view shows them. Sweeps the bins of ended sessions."""
    if time.monotonic() - _SWEPT[0] > SWEEP_SECONDS:
        _SWEPT[0] = time.monotonic()
        with _LOCK:
            gone = [key for key, (owner, _) in _BIN.items() if not _alive(owner)]
        for folder, rid in gone:
            purge([rid], folder)
    folder = _folder()
    with _LOCK:
        return {rid for where, rid in _BIN if where == folder}


def purge(run_ids: list[str], folder: str | None = None) -> tuple[list[str], list[str]]:
    """Delete binned runs from the store for good; returns (deleted ids, one message per refusal)."""
    from . import jobs

    folder = folder or _folder()
    taken = restore(run_ids, folder)
    return jobs.delete(taken, folder) if taken else ([], [])


def purge_all() -> None:
    """Empty every bin (the server is going down: no session is left to undo)."""
    with _LOCK:
        every = list(_BIN)
    for folder, rid in every:
        try:
            purge([rid], folder)
        except Exception:  # noqa: BLE001 — at exit the store may already be gone; the run then stays
            pass


atexit.register(purge_all)
