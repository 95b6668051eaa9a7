"""Imbalance profiles and the seeded long-tailed subset drawn from a data set.

exp:  n_i = int(n_max · (1/ρ)^(i/(K−1)))  (Cao et al. NeurIPS'19, LDAM-DRW `imbalance_cifar.py`).
step: the first ⌊K·(1−μ)⌋ classes keep n_max, the rest int(n_max/ρ)  (Buda et al. 2018).
none: every available image is kept.
"""
from __future__ import annotations

import math

import torch

from ..errors import ConfigError

PROFILES = {
    "exp": "exponential decay n_max·(1/ρ)^(i/(K−1)) (Cao et al. 2019, LDAM-DRW)",
    "step": "first ⌊K(1−μ)⌋ classes keep n_max, the rest n_max/ρ (Buda et al. 2018)",
    "none": "no re-profiling: every available image is kept (natural distribution)",
}


def class_counts(num_classes: int, max_count: int, ratio: float, profile: str = "exp",
                 minority_fraction: float = 0.5) -> list[int]:
    """Per-class training counts for a profile; class 0 is the head (CIFAR-10 ρ100 → 5000…50)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    if num_classes < 1 or max_count < 1:
        raise ConfigError("num_classes and max_count must be at least 1")
    if not (ratio >= 1) or math.isinf(ratio):
        raise ConfigError(f"imbalance ratio must be a finite number ≥ 1, got {ratio}")
    if not 0.0 <= minority_fraction <= 1.0:
        raise ConfigError(f"minority fraction μ must lie in [0, 1], got {minority_fraction}")
    if profile == "none" or num_classes == 1:
        return [max_count] * num_classes
    if profile == "exp":
        return [int(max_count * (1.0 / ratio) ** (i / (num_classes - 1))) for i in range(num_classes)]
    n_major = int(num_classes * (1.0 - minority_fraction))
    return [max_count if i < n_major else int(max_count / ratio) for i in range(num_classes)]


def draw_subset(labels: torch.Tensor, counts: list[int], seed: int) -> torch.Tensor:
    """Indices keeping counts[k] images of class k, drawn with `seed` (same inputs → same subset).

    Counts larger than what a class has are capped at what it has.
    """
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(int(seed))
    keep = []
    for k, n_k in enumerate(counts):
        idx = torch.nonzero(labels == k, as_tuple=False).flatten()
        perm = torch.randperm(len(idx), generator=gen)
        keep.append(idx[perm[: min(n_k, len(idx))]].sort().values)
    return torch.cat(keep) if keep else torch.zeros(0, dtype=torch.long)


def profile_counts_for(available: list[int], ratio: float, profile: str,
                       minority_fraction: float = 0.5) -> list[int]:
    """Counts for a data set whose classes hold `available` images each.

    Balanced sources (CIFAR, digits) get the profile with n_max = the smallest class, so every
    class can supply its share. Unequal sources (an image folder) keep their own order of
    frequency: the profile is laid over the classes sorted by availability and capped by it.
    """
    if profile == "none":
        return list(available)
    order = sorted(range(len(available)), key=lambda k: -available[k])
    balanced = max(available) - min(available) <= 0.1 * max(available)
    n_max = min(available) if balanced else max(available)
    target = class_counts(len(available), n_max, ratio, profile, minority_fraction)
    # every class keeps at least one image, so no class is absent from training (log n_k finite)
    if balanced:
        return [min(max(t, 1), a) for t, a in zip(target, available)]
    counts = [0] * len(available)
    for rank, k in enumerate(order):
        counts[k] = min(max(target[rank], 1), available[k])
    return counts


def real_ratio(counts: list[int]) -> float:
    """n_max / n_min over the classes that kept images (what training really sees)."""
    kept = [int(c) for c in counts if c > 0]
    return max(kept) / min(kept) if kept else float("nan")


def ratio_shortfall(counts: list[int], asked: float, tolerance: float = 0.05) -> str | None:
    """One sentence when the drawn `counts` do not give the asked ratio ρ (within `tolerance`):
    classes hold whole images and keep at least one, so with a largest class of n_max images the
    only reachable ratios are n_max / m for whole m — ρ > n_max cannot be had at all. None when
    the asked ratio holds."""
    real = real_ratio(counts)
    if not math.isfinite(real) or abs(real - asked) <= tolerance * asked:
        return None
    n_max, n_min = max(counts), min(c for c in counts if c > 0)
    if asked > n_max:
        why = (f"its largest class has {n_max} images and the smallest keeps at least 1, "
               f"so {n_max:g}× is the most it can give")
    else:
        near = sorted({n_max / m for m in (math.floor(n_max / asked), math.ceil(n_max / asked)) if m >= 1})
        why = (f"classes hold whole images (largest {n_max}, smallest {n_min}); near ρ = {asked:g} it can "
               f"give {' or '.join(f'{r:.3g}×' for r in near)}")
    return f"ρ = {asked:g} asked, but this data gives {real:.3g}×: {why}."


def gini(counts: list[int]) -> float:
    """Gini coefficient of class sizes, Σ_i Σ_j |n_i − n_j| / (2K Σ_k n_k): 0 when balanced, → 1
    as one class holds everything (used as an imbalance measure by Yang et al. IJCV'22, §3)."""
    k, total = len(counts), sum(counts)
    if k == 0 or total == 0:
        return 0.0
    return sum(abs(a - b) for a in counts for b in counts) / (2 * k * total)
