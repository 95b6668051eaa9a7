"""The Learn page's lessons, read from assets/lessons.toml (or the file `$LTLAB_LESSONS` names,
for a teacher's own lessons): the configs each one runs (every run over `seeds` seeds), the claims
its text makes, and those its teacher's notes and answer make, checked on the runs' mean over
seeds. Every mistake in the file is one LessonsError naming the lesson, the key and what is
allowed; a file that loads has only valid, bounded configurations."""
from __future__ import annotations

import functools
import math
import os
import re
import statistics
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import LTError

LESSONS_FILE = Path(__file__).resolve().parent.parent / "assets" / "lessons.toml"
CHARTS = ("per_class", "shots", "change", "regions", "norms", "tau", "nc", "cosines", "whatif")
METRICS = ("balanced", "many", "medium", "few", "tail_cos", "norm_ratio", "feat_tail_cos", "nc1")
MAX_SEEDS = 10
"""Seeds per lesson (the Train page's bound): a class needs seconds, not a queue of a million runs."""
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}")
"""`{method.metric}` in notes or an answer: replaced by the measured mean ± std over the seeds."""


class LessonsError(LTError):
    """A lessons file that cannot be used, with the lesson, the key and what is allowed."""


@dataclass(frozen=True)
class Claim:
    """`say` holds when mean(left) > mean(right) + margin, or with `near`: |mean(left) − right| ≤ near.
    A side is "method.metric" or a number."""

    say: str
    left: str | float
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
    teacher_claims: tuple[Claim, ...] = ()
    """What the notes and the answer assert beyond their `{method.metric}` figures (teacher only)."""

    def configs(self) -> list[Config]:
        """The lesson's runs as core configs, each over seeds base, base+1, … (method-major order);
        with `geometry`, neural collapse is recorded along training as on the Train page. A run with
        `kd_teacher = "@ce"` distils from the lesson's own `ce` run of the same seed (ltcore resolves
        it; the job queue starts the student once that run is done)."""
        return [config for run in self.runs for config in _configs(run, self.seeds, self.geometry)]

    def methods(self) -> list[str]:
        return [run["method"] for run in self.runs]


def _configs(run: dict, seeds: int, geometry: bool) -> list[Config]:
    """One run of a lesson over seeds first, first+1, … (first: the run's `seed`, else 0). A lesson
    without `geometry` draws nothing along training, so its runs score the test set once, after the
    last epoch (`eval_every` = epochs, unless the run sets it): the same final numbers — evaluating
    draws no random numbers — in about half the time on digits. A `geometry` lesson keeps the Train
    page's NC-recording configuration (scored every epoch), so either page reuses the other's runs."""
    epochs = int(run.get("epochs", Config().epochs))
    extra = geometry_schedule(epochs) if geometry else {"eval_every": epochs}
    first = int(run.get("seed", 0))
    return [Config.from_dict({**extra, **run, "seed": seed}).validate() for seed in range(first, first + seeds)]


def geometry_schedule(epochs: int, measurements: int = 20, snapshots: int = 8) -> dict:
    """Config fields that make a run record neural-collapse metrics about `measurements` times and
    keep about `snapshots` feature snapshots (first epoch, evenly spaced, last) for the Geometry page."""
    every = max(epochs // measurements, 1)
    marks = {1, epochs} | {round(1 + i * (epochs - 1) / max(snapshots - 1, 1)) for i in range(snapshots)}
    return {"nc_every": every, "snapshot_epochs": tuple(sorted(m for m in marks if 1 <= m <= epochs))}


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


def side_stats(side, by_method: dict[str, list]) -> tuple[float, float, int]:
    """(mean, std, n) of one side of a claim (or one placeholder) over the seeds' results."""
    if isinstance(side, (int, float)):
        return float(side), 0.0, 0
    method, _, name = side.partition(".")
    values = [v for r in by_method.get(method, []) if (v := metric(r, name)) is not None]
    if not values:
        return math.nan, math.nan, 0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values)


def check(claim: Claim, by_method: dict[str, list]) -> Check:
    """Whether the claim holds on the mean over seeds of `by_method` (method → results)."""
    left, right = side_stats(claim.left, by_method), side_stats(claim.right, by_method)
    if claim.near is not None:
        holds = abs(left[0] - right[0]) <= claim.near
    else:
        holds = left[0] > right[0] + claim.margin
    return Check(claim, bool(holds) and not math.isnan(left[0]) and not math.isnan(right[0]), left, right)


def format_value(name: str, stats: tuple[float, float, int]) -> str:
    """A metric's mean (± std over seeds when measured): accuracies in %, cosines signed."""
    mean, std, n = stats
    if math.isnan(mean):
        return "—"
    percent = name in ("balanced", "many", "medium", "few")
    cosine = name in ("tail_cos", "feat_tail_cos")
    number = f"{100 * mean:.1f}" if percent else f"{mean:+.2f}" if cosine else f"{mean:.2f}"
    unit = " %" if percent else ""
    if not n or n < 2:
        return number + unit
    spread = f"{100 * std:.1f}" if percent else f"{std:.2f}"
    return f"{number}{unit} (± {spread})"


def fill(text: str, by_method: dict[str, list] | None) -> str:
    """`text` with every `{method.metric}` replaced by its measured value (before the runs are
    done: "(measured after the run)")."""
    def value(match: re.Match) -> str:
        if not by_method:
            return "(measured after the run)"
        return format_value(match[2], side_stats(f"{match[1]}.{match[2]}", by_method))
    return PLACEHOLDER.sub(value, text)


# -- reading and checking the file ------------------------------------------------------------------
_TEXT, _INT, _BOOL, _LIST, _TABLE, _NUMBER = ("a text", "a whole number", "true or false", "a list", "a table",
                                              "a number")
LESSON_KEYS = {"short": _TEXT, "title": _TEXT, "text": _TEXT, "question": _TEXT, "charts": _LIST,
               "runs": _LIST, "base": _TABLE, "seeds": _INT, "geometry": _BOOL, "claims": _LIST,
               "answer": _TEXT, "notes": _TEXT, "teacher_claims": _LIST}
REQUIRED = ("short", "title", "text", "question", "charts", "runs")
CLAIM_KEYS = {"say": _TEXT, "left": "a text or a number", "right": "a text or a number", "margin": _NUMBER,
              "near": _NUMBER}
_TYPES = {_TEXT: str, _INT: int, _BOOL: bool, _LIST: list, _TABLE: dict, _NUMBER: (int, float)}


class _Where:
    """Names the place of a mistake: the file, the lesson (number and short title) and the key."""

    def __init__(self, path: Path, number: int | None = None, short: str = ""):
        self.path, self.number, self.short = path, number, short

    def error(self, key: str, problem: str) -> LessonsError:
        lesson = f"lesson {self.number}" + (f" ({self.short!r})" if self.short else "") if self.number else "top level"
        return LessonsError(f"lessons file {self.path}: {lesson}, key `{key}`: {problem}")


def _typed(raw: dict, key: str, kind: str, where: _Where):
    value = raw[key]
    wanted = _TYPES[kind]
    if isinstance(value, bool) and kind != _BOOL or not isinstance(value, wanted):
        raise where.error(key, f"must be {kind}, got {type(value).__name__} {str(value)[:40]!r}")
    if kind == _NUMBER and not math.isfinite(value):
        raise where.error(key, f"must be a finite number, got {value}")
    return value


def _seeds(value: int, key: str, where: _Where) -> int:
    if not 1 <= value <= MAX_SEEDS:
        raise where.error(key, f"is {value}; allowed: a whole number from 1 to {MAX_SEEDS}")
    return value


def _claims(raw: list, key: str, methods: list[str], where: _Where) -> tuple[Claim, ...]:
    out = []
    for i, c in enumerate(raw, start=1):
        name = f"{key}[{i}]"
        if not isinstance(c, dict):
            raise where.error(name, "must be a table { say = …, left = …, right = … }")
        unknown = sorted(set(c) - set(CLAIM_KEYS))
        if unknown:
            raise where.error(f"{name}.{unknown[0]}", f"is not a claim key; allowed: {', '.join(CLAIM_KEYS)}")
        missing = [k for k in ("say", "left", "right") if k not in c]
        if missing:
            raise where.error(f"{name}.{missing[0]}", "is missing; a claim needs say, left and right")
        for k in ("say", "margin", "near"):
            if k in c:
                _typed(c, k, CLAIM_KEYS[k], where)
        for k in ("left", "right"):
            if isinstance(c[k], bool) or not isinstance(c[k], (str, int, float)):
                raise where.error(f"{name}.{k}", "must be a text \"method.metric\" or a number")
        if not any(isinstance(c[k], str) for k in ("left", "right")):
            raise where.error(name, "compares two numbers; one side must be \"method.metric\"")
        left, right = (c[k] if isinstance(c[k], str) else float(c[k]) for k in ("left", "right"))
        claim = Claim(c["say"], left, right, float(c.get("margin", 0.0)),
                      None if c.get("near") is None else float(c["near"]))
        for side in (claim.left, claim.right):
            if isinstance(side, str):
                _side_name(side, f"{name}", methods, where)
        out.append(claim)
    return tuple(out)


def _side_name(side: str, key: str, methods: list[str], where: _Where) -> None:
    method, _, name = side.partition(".")
    if method not in methods or name not in METRICS:
        raise where.error(key, f"{side!r} must be <method>.<metric> with a method of this lesson "
                               f"({', '.join(methods)}) and a metric from {', '.join(METRICS)}")


def _check_teachers(runs: tuple[dict, ...], where: _Where) -> None:
    """`kd_teacher = "@m"` (ltcore: this configuration with method m, no method parameters) must be a
    run of the lesson listed before it: method m, no method parameters, everything else equal."""
    for i, run in enumerate(runs):
        teacher = dict(run.get("method_params", {})).get("kd_teacher")
        if not (isinstance(teacher, str) and teacher.startswith("@")):
            continue
        twin = {k: v for k, v in run.items() if k != "method_params"} | {"method": teacher[1:]}
        if twin not in runs[:i]:
            raise where.error(f"runs[{i + 1}].method_params.kd_teacher",
                              f"{teacher!r} must name a run listed before {run['method']!r} with the same "
                              "settings and no method parameters")


def _runs(raw: dict, where: _Where) -> tuple[dict, ...]:
    from .methods import PRESETS

    base = _typed(raw, "base", _TABLE, where) if "base" in raw else {}
    if not raw["runs"]:
        raise where.error("runs", "is empty; allowed: a list of tables such as { method = \"ce\" }")
    runs = []
    for i, run in enumerate(raw["runs"], start=1):
        key = f"runs[{i}]"
        if not isinstance(run, dict):
            raise where.error(key, f"must be a table such as {{ method = \"ce\" }}, got {str(run)[:40]!r}")
        merged = {**base, **run}
        known = set(Config.__dataclass_fields__)
        unknown = sorted(set(merged) - known)
        if unknown:
            raise where.error(f"{key}.{unknown[0]}", f"is not a run setting; allowed: {', '.join(sorted(known))}")
        method = merged.get("method")
        if method not in PRESETS:
            raise where.error(f"{key}.method", f"{method!r} is not a method of this installation; allowed: "
                                               f"{', '.join(sorted(PRESETS))}")
        runs.append(merged)
    return tuple(runs)


def _lesson(raw, number: int, default_seeds: int, path: Path) -> Lesson:
    where = _Where(path, number)
    if not isinstance(raw, dict):
        raise where.error("lesson", "each [[lesson]] must be a table")
    if isinstance(raw.get("short"), str):
        where.short = raw["short"]
    unknown = sorted(set(raw) - set(LESSON_KEYS))
    if unknown:
        raise where.error(unknown[0], f"is not a lesson key; allowed: {', '.join(LESSON_KEYS)}")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise where.error(missing[0], f"is missing; every lesson needs {', '.join(REQUIRED)}")
    for key, kind in LESSON_KEYS.items():
        if key in raw:
            _typed(raw, key, kind, where)
    charts = tuple(raw["charts"])
    unknown = [c for c in charts if c not in CHARTS]
    if unknown or not charts:
        raise where.error("charts", f"unknown chart(s) {unknown}; allowed: a list of {', '.join(CHARTS)}"
                          if unknown else f"is empty; allowed: a list of {', '.join(CHARTS)}")
    runs = _runs(raw, where)
    _check_teachers(runs, where)
    methods = [r["method"] for r in runs]
    seeds = _seeds(raw["seeds"], "seeds", where) if "seeds" in raw else default_seeds
    notes, answer = raw.get("notes", "").strip(), raw.get("answer", "").strip()
    for key, text in (("notes", notes), ("answer", answer)):
        for match in PLACEHOLDER.finditer(text):
            _side_name(f"{match[1]}.{match[2]}", key, methods, where)
    lesson = Lesson(number, raw["title"], raw["short"], raw["text"].strip(), raw["question"], charts, runs, seeds,
                    raw.get("geometry", False), _claims(raw.get("claims", []), "claims", methods, where),
                    answer, notes, _claims(raw.get("teacher_claims", []), "teacher_claims", methods, where))
    for i, run in enumerate(runs, start=1):
        try:
            _configs(run, 1, lesson.geometry)
        except (LTError, TypeError, ValueError) as exc:
            raise where.error(f"runs[{i}]", f"{exc}") from None
    return lesson


def load(path: Path | None = None) -> list[Lesson]:
    """Every lesson in file order, numbered from 1; any mistake is a LessonsError. Parsed once per
    version of the file (path, size, modification time): every page run of every student asks."""
    origin = " (from $LTLAB_LESSONS)" if path is None and os.environ.get("LTLAB_LESSONS") else ""
    path = Path(path or os.environ.get("LTLAB_LESSONS") or LESSONS_FILE).expanduser()
    try:
        stat = path.stat()
    except OSError as exc:
        raise LessonsError(f"lessons file {path}{origin} cannot be read: {exc.strerror or exc}; give an "
                           "existing TOML file, or unset LTLAB_LESSONS for the built-in lessons") from None
    return list(_parsed(str(path.resolve()), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _parsed(path: str, size: int, mtime_ns: int) -> tuple[Lesson, ...]:
    """The lessons of one version of the file (`size` and `mtime_ns` only key the cache)."""
    where = _Where(Path(path))
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonsError(f"lessons file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LessonsError(f"lessons file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"seeds", "lesson"})
    if unknown:
        raise where.error(unknown[0], "is not a top-level key; allowed: seeds, and [[lesson]] tables")
    seeds = _seeds(_typed(data, "seeds", _INT, where), "seeds", where) if "seeds" in data else 1
    if not isinstance(data.get("lesson"), list) or not data["lesson"]:
        raise where.error("lesson", "no [[lesson]] table found; allowed: one or more [[lesson]] tables")
    return tuple(_lesson(raw, number, seeds, Path(path)) for number, raw in enumerate(data["lesson"], start=1))
