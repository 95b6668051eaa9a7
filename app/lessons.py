"""The Learn page's lessons, read from assets/lessons.toml (or the file `$LTLAB_LESSONS` names,
for a teacher's own lessons), and the configs each one runs."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ltcore import Config

from .state import geometry_schedule

LESSONS_FILE = Path(__file__).resolve().parent.parent / "assets" / "lessons.toml"
CHARTS = ("per_class", "shots", "change", "regions", "norms", "tau", "nc", "cosines")


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    short: str
    text: str
    question: str
    charts: tuple[str, ...]
    runs: tuple[dict, ...]

    def configs(self) -> list[Config]:
        """The lesson's runs as core configs (with geometry recorded, as on the Train page)."""
        out = []
        for run in self.runs:
            epochs = int(run.get("epochs", 30))
            out.append(Config(**{**geometry_schedule(epochs), **run}).validate())
        return out


def load(path: Path | None = None) -> list[Lesson]:
    """Every lesson in file order, numbered from 1; unknown chart names are an error."""
    path = Path(path or os.environ.get("LTLAB_LESSONS") or LESSONS_FILE)
    data = tomllib.loads(path.read_text())
    lessons = []
    for number, raw in enumerate(data["lesson"], start=1):
        charts = tuple(raw["charts"])
        unknown = [c for c in charts if c not in CHARTS]
        if unknown:
            raise ValueError(f"lesson {number}: unknown chart(s) {unknown}; choose from {CHARTS}")
        runs = tuple({**raw.get("base", {}), **run} for run in raw["runs"])
        lessons.append(Lesson(number, raw["title"], raw["short"], raw["text"].strip(), raw["question"], charts, runs))
    return lessons
