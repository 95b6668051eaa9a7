"""Lessons warmed before the class opens them: as soon as a lesson's runs are all done, one
background thread of the server loads their results and builds the lesson's charts (and the
what-if model outputs) into the process-wide memos, so thirty students opening lessons at once
each get a page that only draws (issue 23: charts p95 ≤ 2 s after "Prepare the class").
The first student of a lesson would otherwise build its charts while the rest of the class waits
behind that page run for the interpreter."""
from __future__ import annotations

import logging
import threading
import time

from ltcore.data import default_data_dir

from app.compare import whatif
from app.learn import lesson_charts
from app.ui import jobs

POLL_SECONDS = 1.0
_WARM: set[tuple] = set()
_LOCK = threading.Lock()
_THREADS: dict[str, threading.Thread] = {}
_LOG = logging.getLogger(__name__)
THREAD_NAME = "warm-lessons"


class _QuietWarmThread(logging.Filter):
    """Streamlit warns once per cached call that a thread has no script run; this one has none by
    design (it serves no session), so its warnings would only fill the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").startswith(THREAD_NAME)


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QuietWarmThread())


def _key(lesson, ids: list[str]) -> tuple:
    return str(default_data_dir()), lesson.number, tuple(ids)


def _ids(lesson) -> list[str]:
    store = jobs.store()
    return [store.run_id_for(c) for c in lesson.configs()]


def is_warm(lesson) -> bool:
    """Whether this server has built the lesson's charts for its current runs."""
    return _key(lesson, _ids(lesson)) in _WARM


def warm(lesson, ids: list[str] | None = None) -> bool:
    """Load the lesson's finished runs (`ids`: their run ids, if known) and build every chart its page
    draws (False while a run is missing or unfinished). Safe to call from any thread: the memos
    compute each key once."""
    ids = ids or _ids(lesson)
    results = [jobs.result(rid) for rid in ids]
    if any(r is None for r in results):
        return False
    view = lesson_charts.seed_view(ids, results)
    for kind in lesson.charts:
        if kind == "whatif":               # the page re-scores the first run live: its outputs
            whatif.outputs(view.ids[0])
        else:
            lesson_charts.build(kind, view)
    with _LOCK:
        _WARM.add(_key(lesson, ids))
    return True


def _loop(lessons: list) -> None:
    """Warm each lesson once its runs are done; end when all are warm or nothing is in flight."""
    try:
        while True:
            cold = [(lesson, ids) for lesson, ids in ((lesson, _ids(lesson)) for lesson in lessons)
                    if _key(lesson, ids) not in _WARM]
            if not cold:
                return
            status = {row["run_id"]: row["status"] for row in jobs.store().list_runs()}
            for lesson, ids in cold:
                if all(status.get(rid) == "done" for rid in ids):
                    warm(lesson, ids)
            if not any(s in ("queued", "running") for s in status.values()):
                return
            time.sleep(POLL_SECONDS)
    except Exception:  # noqa: BLE001 — a page run then builds the charts itself and shows any error
        _LOG.exception("could not warm the lessons")


def start(lessons: list) -> None:
    """Start this data folder's warming thread unless it runs (each Learn page run calls this;
    a thread that found nothing in flight has ended, so a later Prepare starts a new one)."""
    folder = str(default_data_dir())
    with _LOCK:
        thread = _THREADS.get(folder)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_loop, args=(lessons,), name=f"{THREAD_NAME} {folder}", daemon=True)
        _THREADS[folder] = thread
    thread.start()
