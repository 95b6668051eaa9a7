""""Which fix helps on my data?": plain CE against one representative of each family of fixes
that needs no extra input, over the same seeds, read as paired differences with intervals.

Representatives (the survey's families, Zhang et al. 2023 "Deep Long-Tailed Learning: A Survey"):
class-balanced re-sampling (`cbs`, Kang et al. ICLR 2020), re-weighting with deferral (`ldam_drw`,
Cao et al. NeurIPS 2019), logit adjustment (`balanced_softmax`, Ren et al. NeurIPS 2020) and
decoupling (`crt`, Kang et al. ICLR 2020). A seed fixes the training subset and the initialisation,
so the fix and CE of one seed are a pair: the gain is the mean of the per-seed differences, with
a Student-t interval over the seeds. Pure functions of results (`RunResult` or alike)."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

BASELINE = "ce"
FAMILIES = {"re-sampling": "cbs", "re-weighting (DRW)": "ldam_drw", "logit adjustment": "balanced_softmax",
            "decoupling": "crt"}
"""Family → the preset that stands for it (each trains without extra inputs)."""
METHODS = (BASELINE, *FAMILIES.values())
SEEDS = 3
LEVEL = 0.95


def head_tail(counts: list[int]) -> tuple[list[int], list[int]]:
    """(head, tail) classes: the most and the least frequent third of the classes (at least one
    each), by training images; ties keep class order."""
    order = sorted(range(len(counts)), key=lambda k: -counts[k])
    third = max(1, len(counts) // 3)
    return sorted(order[:third]), sorted(order[-third:])


def paired_interval(differences: list[float], level: float = LEVEL) -> tuple[float, float]:
    """(mean, half-width) of the Student-t interval of the mean of paired differences; the
    half-width is inf for a single pair (one seed says nothing about the spread)."""
    n = len(differences)
    mean = statistics.fmean(differences)
    if n < 2:
        return mean, math.inf
    from scipy.stats import t

    return mean, float(t.ppf(0.5 + level / 2, n - 1)) * statistics.stdev(differences) / math.sqrt(n)


@dataclass(frozen=True)
class Gain:
    """A paired difference in accuracy points (mean ± half-width of its interval)."""

    mean: float
    half: float

    @property
    def clear(self) -> bool:
        """Whether the interval excludes zero (the difference is told apart from seed noise)."""
        return abs(self.mean) > self.half

    def text(self) -> str:
        half = "?" if math.isinf(self.half) else f"{self.half:.0f}"
        return f"{self.mean:+.0f} ± {half}"


@dataclass(frozen=True)
class FixEffect:
    """One fix against CE over the seeds both have: balanced, tail and head accuracy gains."""

    method: str
    family: str
    seeds: tuple[int, ...]
    balanced: Gain
    tail: Gain
    head: Gain


def _mean_over(result, classes: list[int]) -> float:
    values = [result.per_class_acc[k] for k in classes if not math.isnan(result.per_class_acc[k])]
    return 100 * statistics.fmean(values) if values else math.nan


def _gain(pairs, measure) -> Gain:
    return Gain(*paired_interval([measure(fix) - measure(base) for base, fix in pairs]))


def effects(runs: dict[str, dict[int, object]]) -> tuple[list[FixEffect], list[int], list[int]]:
    """`runs`: method → {seed: result}. Each fix with a seed in common with CE, paired by seed;
    returns (effects in FAMILIES order, head classes, tail classes)."""
    base = runs.get(BASELINE) or {}
    if not base:
        return [], [], []
    head, tail = head_tail(next(iter(base.values())).class_counts)
    out = []
    for family, method in FAMILIES.items():
        seeds = sorted(set(base) & set(runs.get(method) or {}))
        if not seeds:
            continue
        pairs = [(base[s], runs[method][s]) for s in seeds]
        out.append(FixEffect(method, family, tuple(seeds), _gain(pairs, lambda r: 100 * r.balanced_acc),
                             _gain(pairs, lambda r: _mean_over(r, tail)),
                             _gain(pairs, lambda r: _mean_over(r, head))))
    return out, head, tail


def _head_phrase(head: Gain) -> str:
    if not head.clear:
        return f"with no clear change on the head ({head.text()})"
    if head.mean < 0:
        return f"at a cost of {-head.mean:.0f} ± {head.half:.0f} on the head"
    return f"and the head by {head.text()}"


def verdict(found: list[FixEffect], paired_best: dict[str, Gain]) -> list[str]:
    """Short sentences answering "which fix helps": the fix with the largest balanced-accuracy gain,
    what it does to the tail and the head, and which others cannot be told apart from it.
    `paired_best`: method → its balanced-accuracy difference to the best fix, paired by seed."""
    if not found:
        return ["No fix has a seed in common with ce yet."]
    best = max(found, key=lambda e: e.balanced.mean)
    n = len(best.seeds)
    if not best.balanced.clear:
        return [f"No fix can be told apart from plain ce on this data over {n} seed{'s' * (n != 1)}: the "
                f"best, {best.method}, changes balanced accuracy by {best.balanced.text()} points "
                f"({LEVEL:.0%} interval)."]
    verb = "raises" if best.balanced.mean > 0 else "lowers"
    tail = (f"the tail by {best.tail.text()} points" if best.tail.clear
            else f"the tail by an unclear {best.tail.text()} points")
    lines = [f"{best.method} ({best.family}) {verb} balanced accuracy by {best.balanced.text()} points and "
             f"{tail} {_head_phrase(best.head)} ({LEVEL:.0%} intervals over {n} seeds, paired with ce)."]
    same = [e.method for e in found if e is not best and not paired_best[e.method].clear]
    worse = [e.method for e in found if e is not best and paired_best[e.method].clear]
    if same:
        lines.append(f"{' and '.join(same)} {'is' if len(same) == 1 else 'are'} not distinguishable from it.")
    if worse:
        lines.append(f"{' and '.join(worse)} {'does' if len(worse) == 1 else 'do'} clearly worse than it.")
    return lines


def against_best(found: list[FixEffect], runs: dict[str, dict[int, object]]) -> dict[str, Gain]:
    """Each fix's balanced-accuracy difference to the best fix, paired by their common seeds."""
    if not found:
        return {}
    best = max(found, key=lambda e: e.balanced.mean).method
    out = {}
    for e in found:
        seeds = sorted(set(runs[best]) & set(runs[e.method]))
        out[e.method] = (_gain([(runs[best][s], runs[e.method][s]) for s in seeds], lambda r: 100 * r.balanced_acc)
                         if seeds else Gain(math.nan, math.inf))
    return out
