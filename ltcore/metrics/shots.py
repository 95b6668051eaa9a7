"""Many/medium/few-shot groups (Liu et al. CVPR'19, OLTR): many > 100 training images, medium
20–100, few < 20; when the largest class has ≤ 100 images, frequency terciles instead."""
from __future__ import annotations

import math

import torch

GROUPS = ("many", "medium", "few")


def shot_groups(train_counts, many: int = 100, few: int = 20) -> tuple[list[str], str]:
    """Group of each class and the rule used ("thresholds" or "terciles")."""
    counts = [int(c) for c in train_counts]
    if max(counts) > many:
        groups = ["many" if c > many else "few" if c < few else "medium" for c in counts]
        return groups, f"thresholds: many > {many}, few < {few} training images"
    order = sorted(range(len(counts)), key=lambda k: -counts[k])
    k_all = len(counts)
    sizes = [k_all // 3 + (1 if i < k_all % 3 else 0) for i in range(3)]  # 10 → 4, 3, 3
    if k_all == 2:
        sizes = [1, 0, 1]  # two classes: the head is "many", the tail "few" (no middle to show)
    groups = [""] * k_all
    for rank, k in enumerate(order):
        groups[k] = GROUPS[0 if rank < sizes[0] else 1 if rank < sizes[0] + sizes[1] else 2]
    return groups, f"terciles of class frequency (largest class has ≤ {many} images)"


def per_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Recall of each class (NaN for a class absent from `labels`)."""
    labels = labels.long()
    total = torch.bincount(labels, minlength=num_classes).double()
    correct = torch.bincount(labels[preds == labels], minlength=num_classes).double()
    return torch.where(total > 0, correct / total.clamp(min=1), torch.full_like(total, float("nan")))


def shot_accuracy(per_class: torch.Tensor, groups: list[str]) -> dict[str, float | None]:
    """Mean per-class accuracy inside each group (None for an empty group)."""
    out = {}
    for g in GROUPS:
        vals = [float(per_class[k]) for k, gk in enumerate(groups) if gk == g and not math.isnan(float(per_class[k]))]
        out[g] = sum(vals) / len(vals) if vals else None
    return out
