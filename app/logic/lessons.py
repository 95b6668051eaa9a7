"""The Learn page's lessons, read from assets/lessons.toml (or the file `$LTLAB_LESSONS` names,
for a teacher's own lessons), the configs each one runs (every run over `seeds` seeds), and the
claims its text makes, checked on those runs' mean over seeds."""
from __future__ import annotations

import functools
import math
import os
import statistics
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ltcore import Config

from app.logic.state import geometry_schedule

LESSONS_FILE = Path(__file__).resolve().parents[2] / "assets" / "lessons.toml"
CHARTS = ("per_class", "shots", "change", "regions", "norms", "tau", "nc", "cosines", "whatif")
METRICS = ("balanced", "many", "medium", "few", "tail_cos", "norm_ratio", "feat_tail_cos", "nc1")


@dataclass(frozen=True)
class Claim:
    """`say` holds when mean(left) > mean(right) + margin, or with `near`: |mean(left) − right| ≤ near.
    A side is "method.metric" or a number."""

    say: str
    left: str
    right: str | float
    margin: float = 0.0
    near: float | None = None


@dataclass(frozen=True)
class Check:
    claim: Claim
    holds: bool
    left: tuple[float, float, int]        # mean, std, seeds
    right: tuple[float, float, int]


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    short: str
    text: str
    question: str
    charts: tuple[str, ...]
    runs: tuple[dict, ...]
    seeds: int = 1
    geometry: bool = False
    claims: tuple[Claim, ...] = ()
    answer: str = ""
    notes: str = ""

    def configs(self) -> list[Config]:
        """The lesson's runs as core configs, each over seeds base, base+1, … (method-major order);
        with `geometry`, neural collapse is recorded along training as on the Train page. A run with
        `kd_teacher = "@ce"` distils from the lesson's own `ce` run of the same seed (ltcore resolves
        it; the job queue starts the student once that run is done)."""
        out = []
        for run in self.runs:
            epochs = int(run.get("epochs", 30))
            extra = geometry_schedule(epochs) if self.geometry else {}
            first = int(run.get("seed", 0))
            for seed in range(first, first + self.seeds):
                out.append(Config(**{**extra, **run, "seed": seed}).validate())
        return out

    def methods(self) -> list[str]:
        return [run["method"] for run in self.runs]


def metric(result, name: str) -> float | None:
    """One number of a run a claim can name (see METRICS)."""
    if name == "balanced":
        return result.metrics.get("balanced_acc")
    if name in ("many", "medium", "few"):
        return (result.metrics.get("shot_acc") or {}).get(name)
    mc = (result.extras or {}).get("minority_collapse") or {}
    if name == "tail_cos":
        return mc.get("mean_cos_tail")
    nc = (result.extras or {}).get("neural_collapse") or {}
    if name == "nc1":
        return nc.get("nc1")
    if name == "feat_tail_cos":                     # the same tail block, between centred feature means
        cos, tail = nc.get("mean_cosine"), mc.get("tail") or []
        pairs = [cos[i][j] for i in tail for j in tail if i != j and cos and cos[i][j] is not None]
        return statistics.fmean(pairs) if pairs else None
    if name == "norm_ratio":
        norms = mc.get("weight_norms_sorted")       # most → least frequent class
        if not norms:
            return None
        half = len(norms) // 2
        return statistics.fmean(norms[:half]) / statistics.fmean(norms[len(norms) - half:])
    raise ValueError(f"unknown claim metric {name!r}; choose from {METRICS}")


def _side(side, by_method: dict[str, list]) -> tuple[float, float, int]:
    """(mean, std, n) of one side of a claim over the seeds' results."""
    if isinstance(side, (int, float)):
        return float(side), 0.0, 0
    method, _, name = side.partition(".")
    values = [v for r in by_method.get(method, []) if (v := metric(r, name)) is not None]
    if not values:
        return math.nan, math.nan, 0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values)


def check(claim: Claim, by_method: dict[str, list]) -> Check:
    """Whether the claim holds on the mean over seeds of `by_method` (method → results)."""
    left, right = _side(claim.left, by_method), _side(claim.right, by_method)
    if claim.near is not None:
        holds = abs(left[0] - right[0]) <= claim.near
    else:
        holds = left[0] > right[0] + claim.margin
    return Check(claim, bool(holds) and not math.isnan(left[0]) and not math.isnan(right[0]), left, right)


def _claims(raw: list, number: int, methods: list[str]) -> tuple[Claim, ...]:
    out = []
    for c in raw:
        claim = Claim(c["say"], c["left"], c["right"], float(c.get("margin", 0.0)),
                      None if c.get("near") is None else float(c["near"]))
        for side in (claim.left, claim.right):
            if isinstance(side, str):
                method, _, name = side.partition(".")
                if method not in methods or name not in METRICS:
                    raise ValueError(f"lesson {number}: claim side {side!r} must be <one of {methods}>."
                                     f"<one of {METRICS}>")
        out.append(claim)
    return tuple(out)


def _check_teachers(runs: tuple[dict, ...], number: int) -> None:
    """`kd_teacher = "@m"` (ltcore: this configuration with method m, no method parameters) must be a
    run of the lesson listed before it: method m, no method parameters, everything else equal."""
    for i, run in enumerate(runs):
        teacher = dict(run.get("method_params", {})).get("kd_teacher")
        if not (isinstance(teacher, str) and teacher.startswith("@")):
            continue
        twin = {k: v for k, v in run.items() if k != "method_params"} | {"method": teacher[1:]}
        if twin not in runs[:i]:
            raise ValueError(f"lesson {number}: kd_teacher {teacher!r} must name a run listed before "
                             f"{run['method']!r} with the same settings and no method parameters")


def load(path: Path | None = None) -> list[Lesson]:
    """Every lesson in file order, numbered from 1; unknown chart or claim names are an error.
    Parsed once per version of the file (path, size, modification time): every page run of every
    student asks for them."""
    path = Path(path or os.environ.get("LTLAB_LESSONS") or LESSONS_FILE)
    stat = path.stat()
    return list(_parsed(str(path.resolve()), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _parsed(path: str, size: int, mtime_ns: int) -> tuple[Lesson, ...]:
    """The lessons of one version of the file (`size` and `mtime_ns` only key the cache)."""
    data = tomllib.loads(Path(path).read_text())
    seeds = int(data.get("seeds", 1))
    lessons = []
    for number, raw in enumerate(data["lesson"], start=1):
        charts = tuple(raw["charts"])
        unknown = [c for c in charts if c not in CHARTS]
        if unknown:
            raise ValueError(f"lesson {number}: unknown chart(s) {unknown}; choose from {CHARTS}")
        runs = tuple({**raw.get("base", {}), **run} for run in raw["runs"])
        _check_teachers(runs, number)
        claims = _claims(raw.get("claims", []), number, [r["method"] for r in runs])
        lessons.append(Lesson(number, raw["title"], raw["short"], raw["text"].strip(), raw["question"], charts,
                              runs, int(raw.get("seeds", seeds)), bool(raw.get("geometry", False)), claims,
                              raw.get("answer", "").strip(), raw.get("notes", "").strip()))
    return tuple(lessons)
