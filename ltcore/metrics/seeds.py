"""Seeds as error bars: runs whose configurations differ only by `seed` are one experiment, and
their numbers are reported as mean ± sample std (n−1) over seeds, as `ltcore.sweep` does: the seed
picks the long-tailed subset and the initialisation, and moves accuracy by a point or more.

Pure functions of configs, results and histories: the dashboard groups and summarises through
them, never by itself."""
from __future__ import annotations

import hashlib
import json
import math
import statistics
from dataclasses import dataclass, field

from ..config import Config

SCALARS = ("overall_acc", "balanced_acc", "macro_f1", "gmean_recall", "ece")
PER_CLASS = ("per_class_acc", "per_class_f1")


def seed_key(config: Config) -> str:
    """The identity of a configuration without its seed (12 hex digits): equal for runs that
    differ only by seed."""
    data = config.to_dict()
    data.pop("seed")
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def group_by_seed(configs: list[Config]) -> list[list[int]]:
    """Indices of `configs` grouped by `seed_key`, groups in order of first appearance and the
    indices of a group in order of seed (a seed repeated is kept once: the first index)."""
    groups: dict[str, dict[int, int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(seed_key(c), {}).setdefault(c.seed, i)
    return [[seeds[s] for s in sorted(seeds)] for seeds in groups.values()]


def mean_std(values) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n−1) of the defined values; std 0 for one value,
    (None, None) for none. NaN and None count as undefined."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return None, None
    return statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0


@dataclass
class SeedSummary:
    """Several seeds of one configuration, read like a RunResult: `metrics` holds the means (so
    `.per_class_acc`, `.shot_acc`, `.balanced_acc` ... are means) and `std` the sample stds
    under the same keys. `config` is the first seed's config; `seeds` lists every seed."""

    config: Config
    seeds: list[int]
    run_ids: list[str]
    class_names: list[str]
    class_counts: list[int]
    metrics: dict
    std: dict
    wall_seconds: float
    epochs_completed: int
    status: str
    extras: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.seeds)

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics") or {}
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)


def summarise_seeds(results, run_ids: list[str] | None = None) -> SeedSummary:
    """Mean ± std over the results of one seed group (see `group_by_seed`): overall, balanced,
    macro-F1, G-mean, ECE, each class's accuracy/F1 and many/medium/few accuracy. Shot groups and
    class counts are the first seed's (the profile fixes the counts; the seed only picks images)."""
    results = list(results)
    if not results:
        raise ValueError("summarise_seeds needs at least one result")
    first = results[0]
    if any(r.class_names != first.class_names for r in results):
        raise ValueError("the seeds of one group must share their classes")
    metrics = {k: v for k, v in first.metrics.items() if k not in SCALARS + PER_CLASS + ("shot_acc",)}
    std: dict = {}
    for key in SCALARS:
        metrics[key], std[key] = mean_std(r.metrics.get(key) for r in results)
    for key in PER_CLASS:
        if all(r.metrics.get(key) is not None for r in results):
            pairs = [mean_std(r.metrics[key][k] for r in results) for k in range(len(first.class_names))]
            metrics[key], std[key] = [m for m, _ in pairs], [s for _, s in pairs]
    shots = [r.metrics.get("shot_acc") or {} for r in results]
    pairs = {g: mean_std(s.get(g) for s in shots) for g in (shots[0] or {})}
    metrics["shot_acc"], std["shot_acc"] = {g: p[0] for g, p in pairs.items()}, {g: p[1] for g, p in pairs.items()}
    statuses = {r.status for r in results}
    return SeedSummary(config=first.config, seeds=[r.config.seed for r in results],
                       run_ids=list(run_ids) if run_ids is not None else [r.config.run_id for r in results],
                       class_names=list(first.class_names), class_counts=list(first.class_counts),
                       metrics=metrics, std=std, wall_seconds=sum(r.wall_seconds for r in results),
                       epochs_completed=min(r.epochs_completed for r in results),
                       status=statuses.pop() if len(statuses) == 1 else "mixed")


def history_band(histories: list[list[dict]], key: str) -> dict[str, list]:
    """Per epoch, mean ± std of `key` over the seeds' histories that reached that epoch:
    {"epoch", "mean", "std", "low", "high", "n"}; `low`/`high` = mean ∓ std. Epochs where no seed
    has a defined value are left out."""
    by_epoch: dict[int, list] = {}
    for history in histories:
        for row in history:
            by_epoch.setdefault(int(row["epoch"]), []).append(row.get(key))
    out = {k: [] for k in ("epoch", "mean", "std", "low", "high", "n")}
    for epoch in sorted(by_epoch):
        mean, std = mean_std(by_epoch[epoch])
        if mean is None:
            continue
        out["epoch"].append(epoch)
        out["mean"].append(mean)
        out["std"].append(std)
        out["low"].append(mean - std)
        out["high"].append(mean + std)
        out["n"].append(sum(v is not None for v in by_epoch[epoch]))
    return out


__all__ = ["SeedSummary", "group_by_seed", "history_band", "mean_std", "seed_key", "summarise_seeds"]
