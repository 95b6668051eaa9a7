"""Minority-collapse view data (Fang et al. PNAS'21, §3): under heavy imbalance the classifier rows
of the minority classes move together (pairwise angles shrink) and their norms shrink."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def tail_classes(counts: list[int], tail_fraction: float = 0.5) -> list[int]:
    """The ⌈fraction·K⌉ least frequent classes (ties broken by class index), as in Fang et al.'s
    minority block K_B; sorted by decreasing frequency."""
    k = len(counts)
    n_tail = max(2, math.ceil(tail_fraction * k)) if k >= 2 else k
    by_freq = sorted(range(k), key=lambda c: (-counts[c], c))
    return by_freq[k - n_tail:]


def _mean_cos(cos: torch.Tensor, rows: list[int], cols: list[int]) -> float | None:
    """Mean cosine over pairs (i in rows, j in cols, i ≠ j)."""
    r, c = torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)
    block = cos[r][:, c]
    keep = r[:, None] != c[None, :]
    return float(block[keep].mean()) if bool(keep.any()) else None


def minority_collapse(counts: list[int], weight: torch.Tensor | None = None,
                      mean_norms: list | None = None, tail: list[int] | None = None,
                      tail_fraction: float = 0.5) -> dict:
    """Norms sorted by class frequency and tail-vs-tail classifier cosines/angles (degrees).

    `weight` is the classifier (K×d, raw rows as in Fang et al.), `mean_norms` the ‖μ_k − μ_G‖ from
    neural_collapse; `tail` defaults to the least frequent half (`tail_fraction`).
    """
    counts = [int(c) for c in counts]
    k = len(counts)
    order = sorted(range(k), key=lambda c: (-counts[c], c))
    rule = "given" if tail is not None else f"least frequent {tail_fraction:.0%} of {k} classes"
    tail = list(tail) if tail is not None else tail_classes(counts, tail_fraction)
    head = [c for c in order if c not in set(tail)]
    out = {"order": order, "counts_sorted": [counts[c] for c in order], "tail": tail, "head": head,
           "tail_rule": rule,
           "mean_norms_sorted": [mean_norms[c] for c in order] if mean_norms is not None else None}
    if weight is None:
        out.update({"weight_norms_sorted": None, "tail_cosine": None, "tail_angle_deg": None,
                    "mean_cos_tail": None, "mean_cos_head": None, "mean_cos_head_tail": None})
        return out
    w = weight.detach().double().cpu()
    unit = F.normalize(w, dim=1, eps=1e-12)
    cos = unit @ unit.T                                               # K×K
    tail_cos = cos[tail][:, tail]
    out.update({
        "weight_norms_sorted": [float(w[c].norm()) for c in order],
        "tail_cosine": tail_cos.tolist(),
        "tail_angle_deg": torch.rad2deg(torch.arccos(tail_cos.clamp(-1, 1))).tolist(),
        "mean_cos_tail": _mean_cos(cos, tail, tail),
        "mean_cos_head": _mean_cos(cos, head, head),
        "mean_cos_head_tail": _mean_cos(cos, head, tail),
    })
    return out
