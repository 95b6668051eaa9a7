"""What a sweep trains: a grid of methods × imbalance ratios × seeds over one base config, optionally
crossed with sampled values of method hyper-parameters (a parameter search).

A `SweepSpec` is plain data (JSON round-trip) so the CLI, the dashboard and a driver process started
by the dashboard all build exactly the same configurations, hence the same store run ids.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field

from ..config import Config
from ..errors import ConfigError, LTError

SEARCHES = {
    "grid": "no search: the grid of methods × ratios × seeds as given",
    "random": "random search: `samples` values drawn uniformly (log-uniformly with :log) from each range, "
              "each trained for every method, ratio and seed",
    "optuna": "Optuna's TPE sampler through Ray Tune's OptunaSearch, `samples` trials per method, ratio "
              "and seed (needs --backend ray)",
}
OBJECTIVE = "val_balanced_acc"
"""What a search maximises: balanced accuracy on the validation split, never on the test set."""


@dataclass(frozen=True)
class ParamRange:
    """A method hyper-parameter searched over [low, high] (`log`: log-uniformly; `kind` int or float)."""

    name: str
    low: float
    high: float
    kind: str = "float"
    log: bool = False

    def draw(self, rng: random.Random):
        """One value, rounded to 4 significant digits so the run id (and its reuse) is stable."""
        if self.kind == "int":
            return rng.randint(int(self.low), int(self.high))
        u = rng.random()
        x = (math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))) if self.log
             else self.low + u * (self.high - self.low))
        return round_sig(x)

    def text(self) -> str:
        return f"{self.name}={self.low:g}:{self.high:g}{':log' if self.log else ''}"


LARGE_RUNS = 200
"""More runs than this in one command needs `--yes` (a 3 methods × 5 ratios × 5 seeds sweep is 75)."""
LARGE_EPOCHS = 1000
"""More epochs than this in one run needs `--yes` (the CIFAR-LT recipes train 200)."""
LARGE_TOTAL = 20_000
"""More epochs than this over all runs of one command needs `--yes`."""


CONFIRM_CLI = "check the numbers, or add --yes to start it anyway"


def check_size(runs: int, epochs: int, confirmed: bool = False, confirm: str = CONFIRM_CLI) -> None:
    """Refuse very large work unless `confirmed` (`--yes`), saying how large it is: the one size
    check of every command and page that starts training (`confirm`: how to go ahead anyway)."""
    total = runs * epochs
    if confirmed or (runs <= LARGE_RUNS and epochs <= LARGE_EPOCHS and total <= LARGE_TOTAL):
        return
    raise LTError(f"this asks for {runs:,} run{'s' * (runs != 1)} of {epochs:,} epochs ({total:,} epochs in "
                  f"all; the limits without asking are {LARGE_RUNS} runs, {LARGE_EPOCHS} epochs a run, "
                  f"{LARGE_TOTAL:,} in all): {confirm}")


def round_sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def parse_range(text: str) -> ParamRange | None:
    """`name=lo:hi` or `name=lo:hi:log` → a ParamRange; `name=value` (a fixed value) → None."""
    if "=" not in text:
        raise ConfigError(f"--param takes NAME=VALUE or NAME=LOW:HIGH, got {text!r}")
    name, value = (part.strip() for part in text.split("=", 1))
    if ":" not in value:
        return None
    parts = value.split(":")
    log = len(parts) == 3 and parts[2].strip().lower() == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise ConfigError(f"--param {name}= takes LOW:HIGH or LOW:HIGH:log, got {value!r}")
    from ..methods import PARAMS

    spec = PARAMS.get(name)
    if spec is None:
        raise ConfigError(f"unknown method parameter {name!r} in --param {text}; "
                          "`python -m ltcore methods` lists each method's parameters")
    if spec.kind not in ("int", "float"):
        raise ConfigError(f"method parameter {name} is a {spec.kind}, not a number: it cannot be searched over a range")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--param {name}= takes numbers LOW:HIGH, got {value!r}") from None
    if not low < high:
        raise ConfigError(f"--param {name}={value}: LOW must be smaller than HIGH")
    if log and low <= 0:
        raise ConfigError(f"--param {name}={value}: a log range needs LOW > 0")
    return ParamRange(name, low, high, spec.kind, log)


@dataclass(frozen=True)
class SweepSpec:
    """methods × ratios × seeds over `base`; with `ranges`, `samples` parameter values per grid cell."""

    base: Config
    methods: tuple = ("ce",)
    ratios: tuple = (50.0,)
    seeds: tuple = (0,)
    ranges: tuple = ()               # ParamRange, ...
    search: str = "grid"             # grid | random | optuna
    samples: int = 0
    asha: bool = False
    grace_epochs: int = 1            # ASHA: epochs every trial gets before it can be stopped
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "methods", tuple(self.methods))
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "ranges", tuple(r if isinstance(r, ParamRange) else ParamRange(**r)
                                                 for r in self.ranges))
        if not self.methods or not self.ratios or not self.seeds:
            raise ConfigError("a sweep needs at least one method, one ratio and one seed")
        if self.search not in SEARCHES:
            raise ConfigError(f"unknown search {self.search!r}; choose one of: {', '.join(SEARCHES)}")
        if self.ranges and self.search == "grid":
            object.__setattr__(self, "search", "random")
        if self.search != "grid":
            if not self.ranges:
                raise ConfigError(f"--search {self.search} needs a range to search: --param NAME=LOW:HIGH")
            if self.samples < 1:
                raise ConfigError("a parameter search needs --samples N ≥ 1")
        if self.asha and self.search == "grid":
            raise ConfigError("--asha stops bad trials of a parameter search early; give --param NAME=LOW:HIGH")
        for name in [r.name for r in self.ranges]:
            for method in self.methods:
                _check_takes(method, name, self.base)

    @property
    def is_search(self) -> bool:
        return self.search != "grid"

    def to_dict(self) -> dict:
        return {"base": self.base.to_dict(), "methods": list(self.methods), "ratios": list(self.ratios),
                "seeds": list(self.seeds), "ranges": [r.__dict__ for r in self.ranges], "search": self.search,
                "samples": self.samples, "asha": self.asha, "grace_epochs": self.grace_epochs}

    @classmethod
    def from_dict(cls, data: dict) -> "SweepSpec":
        data = dict(data)
        data["base"] = Config.from_dict(data["base"])
        data["ranges"] = tuple(ParamRange(**r) for r in data.get("ranges", ()))
        return cls(**data)

    @property
    def key(self) -> str:
        """A short stable id of the sweep (names its Tune experiment and seeds its random search)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:10]

    def cells(self) -> list[tuple[str, float, int]]:
        return list(itertools.product(self.methods, self.ratios, self.seeds))

    def param_values(self) -> list[dict]:
        """The sampled parameter points of a random search (the same for every grid cell, so seeds of
        one point can be averaged); [{}] for a plain grid. Reproducible from the spec alone."""
        if self.search != "random":
            return [{}]
        rng = random.Random(f"{self.key}:{[r.text() for r in self.ranges]}")
        points, seen = [], set()
        for _ in range(self.samples * 20):
            point = {r.name: r.draw(rng) for r in self.ranges}
            marker = tuple(sorted(point.items()))
            if marker not in seen:
                seen.add(marker)
                points.append(point)
            if len(points) == self.samples:
                break
        return points

    def config_for(self, method: str, ratio: float, seed: int, values: dict | None = None) -> Config:
        """One run's config: the base with this cell's method, ratio and seed and the searched values
        (the base's method parameters apply only to the base's own method)."""
        params = dict(self.base.method_params) if method == self.base.method else {}
        params.update(values or {})
        return self.base.replace(method=method, ratio=ratio, seed=seed, method_params=params).validate()

    def configs(self) -> list[Config]:
        """Every configuration of a grid or random search (an Optuna search proposes its own)."""
        if self.search == "optuna":
            raise ConfigError("an Optuna search proposes its configurations while it runs (ray backend)")
        return [self.config_for(m, r, s, v) for (m, r, s) in self.cells() for v in self.param_values()]

    def count(self) -> int:
        """How many runs the sweep asks for, counted without building them."""
        return len(self.methods) * len(self.ratios) * len(self.seeds) * max(self.samples if self.is_search else 1, 1)

    def check_size(self, confirmed: bool = False, confirm: str = CONFIRM_CLI) -> None:
        """`check_size` of this sweep (before any configuration is built): the CLI's and the Sweep page's."""
        check_size(self.count(), self.base.epochs, confirmed, confirm)


def _check_takes(method: str, name: str, base: Config) -> None:
    from ..methods import resolve_params

    if name not in resolve_params(method, {}):
        raise ConfigError(f"method {method!r} has no parameter {name!r} to search; "
                          "`python -m ltcore methods` lists each method's parameters")


def sweep_configs(base: Config, methods: list[str], ratios: list[float], seeds: list[int]) -> list[Config]:
    """Every (method, ratio, seed) combination of `base`, validated before anything trains."""
    return SweepSpec(base, tuple(methods), tuple(ratios), tuple(seeds)).configs()
