"""`python -m ltcore lessons prepare|board`: train every Learn lesson's runs before a class (each
distinct run once, in this process's job slots, with progress), or show which lessons are ready.

    python -m ltcore lessons prepare [--data-dir DIR] [--lessons FILE]
    python -m ltcore lessons board   [--data-dir DIR] [--lessons FILE]
"""
from __future__ import annotations

import time

from ..classroom import board, format_board, prepare, store_status
from ..errors import LTError
from ..lessons import Lesson, load
from ..runs import JobManager
from .runs import data_dir_arg, store_for


def add_parser(sub) -> None:
    p = sub.add_parser("lessons", help="prepare the Learn page's lessons for a class, or show which are ready")
    p.add_argument("what", choices=("prepare", "board"),
                   help="prepare: train every lesson's runs now (each once); board: which lessons are ready")
    p.add_argument("--data-dir", help="data folder whose run store the server uses (default: $LTLAB_DATA)")
    p.add_argument("--lessons", help="lessons file (default: $LTLAB_LESSONS, else the built-in lessons)")
    p.set_defaults(handler=command)


def command(args) -> int:
    lessons = load(args.lessons)
    store = store_for(data_dir_arg(args.data_dir))
    if args.what == "board":
        store.recover()
        print(format_board(board(lessons, store_status(store))))
        return 0
    return _prepare(lessons, store)


def _prepare(lessons: list[Lesson], store) -> int:
    """Train every lesson's runs in this process's job slots, printing progress, then the board."""
    manager = JobManager(store, own_session=True)
    started = time.perf_counter()
    try:
        counts = prepare(manager, lessons)
        print(f"{sum(counts.values())} distinct runs for {len(lessons)} lessons: {counts['queued']} queued, "
              f"{counts['joined']} already training, {counts['cached']} done before", flush=True)
        shown = None
        while True:
            rows = board(lessons, store_status(store))
            line = " ".join(f"{r.number}:{r.done}/{r.total}" for r in rows)
            if line != shown:
                print(f"{time.perf_counter() - started:6.1f} s  {line}", flush=True)
                shown = line
            if all(r.state in ("ready", "failed") for r in rows) and not manager.active():
                break
            time.sleep(0.5)
    finally:
        manager.shutdown(kill=True)
    rows = board(lessons, store_status(store))
    print(format_board(rows))
    print(f"prepared in {time.perf_counter() - started:.1f} s")
    failed = [r for r in rows if r.state != "ready"]
    if failed:
        raise LTError(f"lesson(s) {', '.join(str(r.number) for r in failed)} did not get ready; "
                      "see `python -m ltcore runs list --status failed`")
    return 0

