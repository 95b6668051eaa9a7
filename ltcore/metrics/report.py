"""Everything computed from a run's test-set predictions, in one place for CLI, store and UI."""
from __future__ import annotations

import math

import torch

from .shots import per_class_accuracy, shot_accuracy, shot_groups


def evaluate_logits(logits: torch.Tensor, labels: torch.Tensor, train_counts: list[int],
                    many: int = 100, few: int = 20) -> dict:
    """Overall/balanced accuracy, per-class accuracy and many/medium/few accuracy (JSON-able)."""
    logits, labels = logits.detach().float().cpu(), labels.cpu()
    k = len(train_counts)
    preds = logits.argmax(1)
    per_class = per_class_accuracy(preds, labels, k)
    groups, rule = shot_groups(train_counts, many, few)
    valid = [float(a) for a in per_class if not math.isnan(float(a))]
    return {
        "overall_acc": float((preds == labels).float().mean()) if len(labels) else float("nan"),
        "balanced_acc": sum(valid) / len(valid) if valid else float("nan"),
        "per_class_acc": [float(a) for a in per_class],
        "shot_acc": shot_accuracy(per_class, groups),
        "shot_groups": groups,
        "shot_rule": rule,
        "test_counts": torch.bincount(labels, minlength=k).tolist(),
    }
