"""Prepare the class: queue every lesson's runs at once (each distinct configuration once, the
runs shared between lessons first so later lessons reuse them), and a board of which lessons are
ready. Used by the Learn page's teacher-only "Prepare the class" and by `python -m ltcore lessons
prepare|board` (ltcore/cli/lessons.py)."""
from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .lessons import Lesson

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
