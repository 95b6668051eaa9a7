"""Progress of a sweep, read from the store (the single source of truth): counts by status, an ETA,
a one-line bar for the terminal, and an estimate of a sweep's time before it starts."""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field

FINAL = ("done", "stopped", "failed", "interrupted")


def finished_in_store(store, run_id: str) -> bool:
    """Final with a result: done, or failed with one (the loss diverged). Such runs are never resubmitted."""
    row = store.get(run_id)
    return bool(row and row["has_result"] and row["status"] in ("done", "failed"))


@dataclass
class Progress:
    """Counts of a sweep's runs by status and an ETA from the runs finished since it started."""

    total: int
    parallel: int = 1
    started: float = field(default_factory=time.monotonic)
    counts: dict = field(default_factory=dict)
    trained: int = 0            # finished by this sweep (not cached): the ETA's sample

    def update(self, statuses: dict[str, str], cached: int) -> None:
        self.counts = {s: 0 for s in ("queued", "running", *FINAL)}
        for status in statuses.values():
            self.counts[status] = self.counts.get(status, 0) + 1
        self.trained = sum(self.counts[s] for s in FINAL) - cached

    @property
    def finished(self) -> int:
        return sum(self.counts.get(s, 0) for s in FINAL)

    def eta(self) -> float | None:
        """Seconds left: wall time per run finished by this sweep so far × runs left (None before the first)."""
        if self.trained <= 0:
            return None
        return (time.monotonic() - self.started) / self.trained * (self.total - self.finished)

    def line(self, width: int = 24) -> str:
        done = self.finished
        filled = int(round(width * done / max(self.total, 1)))
        eta = self.eta()
        failed = self.counts.get("failed", 0) + self.counts.get("interrupted", 0)
        return (f"sweep [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} finished · "
                f"{self.counts.get('running', 0)} running · {self.counts.get('queued', 0)} queued · "
                f"{failed} failed · {self.counts.get('stopped', 0)} stopped · "
                f"ETA {'—' if eta is None else format_seconds(eta)}")


class TerminalBar:
    """Writes a Progress line to stderr: redrawn in place on a terminal, a new line on change otherwise."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.last = ""

    def __call__(self, progress: Progress) -> None:
        if self.quiet:
            return
        text = progress.line()
        key = text.rsplit("ETA", 1)[0]
        if self.tty:
            self.stream.write("\r" + text + " " * max(len(self.last) - len(text), 0))
            self.stream.flush()
        elif key != self.last.rsplit("ETA", 1)[0]:
            self.stream.write(text + "\n")
        self.last = text

    def close(self) -> None:
        if self.tty and self.last and not self.quiet:
            self.stream.write("\n")


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def run_timing(store, dataset: str, model: str) -> tuple[float | None, int, float]:
    """(median seconds of one epoch, epochs sampled, median seconds a run spends outside its epochs)
    over the store's finished runs of this data set and model. The second part is what an estimate
    from epoch times alone misses: starting a worker, loading the data, evaluating, stage 2 and
    neural-collapse measurements — on small data most of a run (a 43 s grid was estimated at 16 s)."""
    seconds, outside = [], []
    for row in store.list_runs(status="done", dataset=dataset, model=model, limit=50):
        epochs = [h["seconds"] for h in store.history(row["run_id"]) if h.get("seconds") is not None]
        seconds += epochs
        if epochs and row.get("started") and row.get("finished"):
            outside.append(max(row["finished"] - row["started"] - sum(epochs), 0.0))
    if not seconds:
        return None, 0, 0.0
    return statistics.median(seconds), len(seconds), statistics.median(outside) if outside else 0.0


def estimate(store, configs, parallel: int = 1) -> dict:
    """Before Run: how many runs the grid has, how many the store already holds, and about how long
    the rest takes with `parallel` runs at once: each run its epochs plus the time finished runs spent
    outside their epochs (`run_timing`); None when the store has no epoch of this data set."""
    todo = [c for c in configs if not finished_in_store(store, store.run_id_for(c))]
    per_epoch, sample, outside = (run_timing(store, configs[0].dataset, configs[0].model) if configs
                                  else (None, 0, 0.0))
    seconds = None
    if per_epoch is not None and todo:
        seconds = sum(outside + c.epochs * per_epoch for c in todo) / max(parallel, 1)
    return {"runs": len(configs), "stored": len(configs) - len(todo), "to_train": len(todo),
            "seconds": 0.0 if not todo else seconds, "epochs_sampled": sample}

