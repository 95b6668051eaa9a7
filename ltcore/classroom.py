"""Prepare the class: queue every lesson's runs at once (each distinct configuration once, the
runs shared between lessons first so later lessons reuse them), and a board of which lessons are
ready. Used by the Learn page's teacher-only "Prepare the class" and by

    python -m ltcore lessons prepare [--data-dir DIR] [--lessons FILE]
    python -m ltcore lessons board   [--data-dir DIR] [--lessons FILE]
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .config import Config
from .errors import LTError
from .lessons import Lesson, load

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Row:
    """One lesson on the board: how many of its runs are done, training, waiting or failed."""

    number: int
    short: str
    total: int
    done: int
    running: int
    queued: int
    failed: int

    @property
    def state(self) -> str:
        if self.done == self.total:
            return "ready"
        if self.failed:
            return "failed"
        if self.running:
            return "training"
        if self.queued:
            return "waiting"
        return "not started"


def class_configs(lessons: list[Lesson]) -> list[Config]:
    """Every lesson's configurations, each distinct one once, in training order: a configuration
    several lessons share (plain `ce`) first, then by lesson; two-stage runs (`crt`, `tau_norm`…)
    and distillation students after the runs they reuse, as the lessons list them."""
    first: dict[str, tuple[int, int, Config]] = {}
    uses: dict[str, int] = {}
    for lesson in lessons:
        for position, config in enumerate(lesson.configs()):
            uses[config.run_id] = uses.get(config.run_id, 0) + 1
            first.setdefault(config.run_id, (lesson.number, position, config))
    shared = [rid for rid in first if uses[rid] > 1]
    rest = [rid for rid in first if uses[rid] == 1]
    return [first[rid][2] for rid in shared + rest]


def prepare(manager, lessons: list[Lesson]) -> dict[str, int]:
    """Queue every lesson's runs on `manager` (a JobManager); a done run is not trained again, one
    in flight is joined. Returns how many were queued, joined and already done."""
    counts = {"queued": 0, "joined": 0, "cached": 0}
    for config in class_configs(lessons):
        state, _ = manager.request(config)
        counts[state] += 1
    return counts


def board(lessons: list[Lesson], status_of) -> list[Row]:
    """One row per lesson from `status_of(config) → status text, or None when the store has no run
    of it under this code version`."""
    rows = []
    for lesson in lessons:
        states = [status_of(config) for config in lesson.configs()]
        rows.append(Row(lesson.number, lesson.short, len(states), states.count("done"), states.count("running"),
                        states.count("queued"), sum(s in ("failed", "stopped", "interrupted") for s in states)))
    return rows


def store_status(store):
    """`status_of` for `board` from one read of the store's run list."""
    status = {row["run_id"]: row["status"] for row in store.list_runs()}
    return lambda config: status.get(store.run_id_for(config))


def format_board(rows: list[Row]) -> str:
    lines = [f"{'lesson':<28} {'state':<12} runs"]
    for r in rows:
        lines.append(f"{f'{r.number}. {r.short}':<28} {r.state:<12} {r.done}/{r.total} done"
                     + (f", {r.running} training" if r.running else "") + (f", {r.queued} waiting" if r.queued else "")
                     + (f", {r.failed} failed" if r.failed else ""))
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------------------
def add_parser(sub) -> None:
    p = sub.add_parser("lessons", help="prepare the Learn page's lessons for a class, or show which are ready")
    p.add_argument("what", choices=("prepare", "board"),
                   help="prepare: train every lesson's runs now (each once); board: which lessons are ready")
    p.add_argument("--data-dir", help="data folder whose run store the server uses (default: $LTLAB_DATA)")
    p.add_argument("--lessons", help="lessons file (default: $LTLAB_LESSONS, else the built-in lessons)")
    p.set_defaults(handler=command)


def command(args) -> int:
    from .runs.cli import data_dir_arg, store_for

    lessons = load(args.lessons)
    store = store_for(data_dir_arg(args.data_dir))
    if args.what == "board":
        store.recover()
        print(format_board(board(lessons, store_status(store))))
        return 0
    return _prepare(lessons, store)


def _prepare(lessons: list[Lesson], store) -> int:
    """Train every lesson's runs in this process's job slots, printing progress, then the board."""
    from .runs import JobManager

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

