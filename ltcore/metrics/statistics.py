"""Statistics for comparing methods: is a difference between two configurations more than seed
or test-set noise? Pure functions of numbers (no torch, no scipy: the tests check them against
scipy.stats on fixed inputs).

- `paired_difference`: mean of the per-seed differences a_s − b_s with its Student-t interval
  (seed s of a method against seed s of the baseline share their long-tailed subset, so the pair's
  difference is what varies; Dietterich 1998 on paired tests over repeated runs).
- `mean_interval`: the t interval of a mean over seeds (the `sweep` / `reproduce` tables).
- `bootstrap_difference`: one seed each — a bootstrap over the test images of the
  balanced-accuracy difference (Efron & Tibshirani 1993, percentile interval).
- `wilson_interval`: a proportion from few test images (Wilson 1927; Brown, Cai & DasGupta 2001
  recommend it over the normal interval for small n).
- `rank_ranges`: each configuration's rank per seed and its range (which presets are tied).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
FEW_TEST_IMAGES = 20
"""A per-class accuracy from fewer test images than this is shown with its Wilson interval."""


@dataclass(frozen=True)
class Interval:
    """A difference (or a mean) with its interval at `confidence`; low/high None when it cannot be
    computed (a single seed for a t interval). `method` names how it was computed."""

    estimate: float
    low: float | None
    high: float | None
    n: int
    method: str
    confidence: float = CONFIDENCE

    @property
    def distinguishable(self) -> bool | None:
        """True when the interval excludes 0, False when it contains 0, None when there is none."""
        if self.low is None or self.high is None:
            return None
        return not (self.low <= 0.0 <= self.high)

    @property
    def half_width(self) -> float | None:
        return None if self.low is None else (self.high - self.low) / 2


# --- Student's t quantile (regularised incomplete beta, Numerical Recipes §6.4) -----------------

def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (bisection on `t_cdf`, to 1e-12; cached: few (p, df) recur)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2.0


# --- intervals -------------------------------------------------------------------------------------

def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def mean_interval(values, confidence: float = CONFIDENCE) -> Interval | None:
    """Mean of the values with the t interval mean ± t_{(1+c)/2, n−1} · s/√n (None for no values;
    no interval for one value)."""
    vals = _finite(values)
    if not vals:
        return None
    mean = statistics.fmean(vals)
    if len(vals) < 2:
        return Interval(mean, None, None, 1, "one value: no interval", confidence)
    half = t_quantile((1 + confidence) / 2, len(vals) - 1) * statistics.stdev(vals) / math.sqrt(len(vals))
    return Interval(mean, mean - half, mean + half, len(vals), "t over seeds", confidence)


def paired_difference(a: dict, b: dict, confidence: float = CONFIDENCE) -> Interval | None:
    """Mean of a[s] − b[s] over the seeds s both have, with the paired t interval (None when they
    share no seed). `a`, `b`: seed → value."""
    shared = sorted(s for s in a if s in b and a[s] is not None and b[s] is not None)
    diffs = _finite(a[s] - b[s] for s in shared)
    if not diffs:
        return None
    out = mean_interval(diffs, confidence)
    if out.low is None:
        return Interval(out.estimate, None, None, 1, "one shared seed: no interval", confidence)
    return Interval(out.estimate, out.low, out.high, out.n, "paired t over seeds", confidence)


def bootstrap_difference(correct_a, correct_b, test_counts, resamples: int = 4000, seed: int = 0,
                         confidence: float = CONFIDENCE) -> Interval | None:
    """Balanced-accuracy difference of two runs evaluated on the same test set, from their
    correctly classified test images per class (`correct_*[k]` of `test_counts[k]`), with a
    percentile bootstrap over the test images: each resample redraws N test images with
    replacement (class k appears m_k times, multinomial), each run gets Binomial(m_k, c_k / n_k) of
    them right, and balanced accuracy is the mean recall over the classes the resample holds.
    Not stratified by class, so that a class of 1–2 test images (recall 0 or 1) still carries its
    uncertainty; the runs' correctness is drawn independently given the images (only per-class
    counts are stored), which widens the interval when their errors coincide (conservative).
    None when no class has a test image."""
    counts = np.asarray(test_counts, dtype=np.int64)
    keep = counts > 0
    if not keep.any():
        return None
    n = counts[keep]
    pa = np.asarray(correct_a, dtype=np.float64)[keep] / n
    pb = np.asarray(correct_b, dtype=np.float64)[keep] / n
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(int(n.sum()), n / n.sum(), size=resamples)
    present = drawn > 0
    shown = np.maximum(drawn, 1)
    ra = rng.binomial(drawn, pa) / shown
    rb = rng.binomial(drawn, pb) / shown
    classes = present.sum(axis=1)
    diffs = ((ra - rb) * present).sum(axis=1) / classes
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    return Interval(float(pa.mean() - pb.mean()), float(low), float(high), int(n.sum()),
                    f"bootstrap over {int(n.sum())} test images", confidence)


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of a proportion successes / trials (None for no trials)."""
    if trials <= 0:
        return None
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --- ranks -----------------------------------------------------------------------------------------

def average_ranks(values: list[float], descending: bool = True) -> list[float]:
    """Ranks 1..n (1 = the largest when `descending`), ties sharing their average rank."""
    keyed = [-v for v in values] if descending else list(values)
    order = sorted(range(len(keyed)), key=lambda i: keyed[i])
    ranks = [0.0] * len(keyed)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and keyed[order[j + 1]] == keyed[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


@dataclass(frozen=True)
class RankRange:
    """A configuration's rank by its mean over seeds, and the best and worst rank it takes when
    each seed is ranked on its own (over the seeds every configuration has)."""

    rank: float
    best: float
    worst: float
    seeds: int

    def label(self) -> str:
        if self.seeds < 2 or self.best == self.worst:
            return f"{self.rank:g}"
        return f"{self.rank:g} ({self.best:g}–{self.worst:g})"


def rank_ranges(scores: dict) -> dict:
    """`scores`: name → {seed: value} (higher is better). Returns name → RankRange: the rank of its
    mean, and the range of its per-seed ranks over the seeds all names share (per-seed ranks over
    the shared seeds only, so every seed ranks the same set)."""
    names = [n for n in scores if _finite(scores[n].values())]
    if not names:
        return {}
    means = [statistics.fmean(_finite(scores[n].values())) for n in names]
    by_mean = dict(zip(names, average_ranks(means)))
    shared = sorted(set.intersection(*(set(s for s, v in scores[n].items() if v is not None) for n in names)))
    per_seed = {n: [] for n in names}
    for s in shared:
        for n, r in zip(names, average_ranks([float(scores[n][s]) for n in names])):
            per_seed[n].append(r)
    return {n: RankRange(by_mean[n], min(per_seed[n], default=by_mean[n]), max(per_seed[n], default=by_mean[n]),
                         len(shared)) for n in names}


def spearman(a: list, b: list) -> float:
    """Spearman's rank correlation (average ranks for ties); 0 when either side is constant."""
    ra, rb = average_ranks(list(a), False), average_ranks(list(b), False)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else 0.0


# --- words -----------------------------------------------------------------------------------------

NOT_DISTINGUISHABLE = "not distinguishable at these seeds"


def verdict(interval: Interval | None, unit: float = 100.0, suffix: str = " pts") -> str:
    """One cell of text: '+3.1 pts [+1.2, +5.0]', with the mark when the interval contains 0, or
    'one seed: no interval'."""
    if interval is None:
        return "—"
    est = f"{unit * interval.estimate:+.1f}{suffix}"
    if interval.low is None:
        return f"{est} ({interval.method})"
    text = f"{est} [{unit * interval.low:+.1f}, {unit * interval.high:+.1f}]"
    if interval.distinguishable:
        return text
    mark = NOT_DISTINGUISHABLE if interval.method.startswith("paired") else "not distinguishable from test-set noise"
    return f"{text} — {mark}"
