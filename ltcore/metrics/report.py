"""Everything computed from a run's test-set predictions, in one place for CLI, store and UI.

The output is JSON-able: floats, ints, lists, None where a value is undefined (never NaN).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .calibration import expected_calibration_error
from .shots import per_class_accuracy, shot_accuracy, shot_groups


def finite_or_none(x) -> float | None:
    """float(x), or None when it is NaN/inf (JSON cannot hold NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


def geometric_mean_recall(recalls) -> float | None:
    """(Π_k r_k)^(1/K) over the classes with a defined recall (Kubat & Matwin ICML'97); 0 if any r_k = 0."""
    vals = [float(r) for r in recalls if r is not None and not math.isnan(float(r))]
    if not vals:
        return None
    if min(vals) <= 0:
        return 0.0
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def _mean_defined(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def classification_report(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Per-class precision, recall, F1 (scikit-learn) and confusion matrix, counts and row-normalised."""
    y_true, y_pred = labels.cpu().numpy(), preds.cpu().numpy()
    classes = list(range(num_classes))
    if len(y_true):
        from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # ~2 s import: only here
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=classes, average=None, zero_division=np.nan)
        cm = confusion_matrix(y_true, y_pred, labels=classes)
    else:
        precision = recall = f1 = np.full(num_classes, np.nan)
        cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    rows = cm.sum(axis=1)
    normalised = [[float(v) / rows[i] for v in cm[i]] if rows[i] else [None] * num_classes
                  for i in range(num_classes)]
    f1_list = [finite_or_none(v) for v in f1]
    return {
        "per_class_precision": [finite_or_none(v) for v in precision],
        "per_class_recall": [finite_or_none(v) for v in recall],
        "per_class_f1": f1_list,
        "macro_f1": _mean_defined(f1_list),
        "confusion_matrix": cm.astype(int).tolist(),
        "confusion_matrix_normalized": normalised,
        "pred_counts": np.bincount(y_pred.astype(np.int64), minlength=num_classes).tolist()
        if len(y_pred) else [0] * num_classes,
    }


def evaluate_logits(logits: torch.Tensor, labels: torch.Tensor, train_counts: list[int],
                    many: int = 100, few: int = 20, ece_bins: int = 15) -> dict:
    """All test-set metrics of a run: accuracies, shot groups, per-class P/R/F1, confusion, ECE, G-mean.

    Balanced accuracy = mean per-class recall; shot groups after Liu et al. CVPR'19 (terciles when
    the largest class has ≤ `many` images, reported in `shot_rule`); ECE after Guo et al. ICML'17.
    """
    logits, labels = logits.detach().float().cpu(), labels.cpu().long()
    k = len(train_counts)
    preds = logits.argmax(1)
    per_class = per_class_accuracy(preds, labels, k)
    groups, rule = shot_groups(train_counts, many, few)
    per_class_list = [finite_or_none(a) for a in per_class]
    ece, reliability = expected_calibration_error(logits, labels, ece_bins)
    return {
        "overall_acc": float((preds == labels).float().mean()) if len(labels) else None,
        "balanced_acc": _mean_defined(per_class_list),
        "per_class_acc": per_class_list,
        "shot_acc": shot_accuracy(per_class, groups),
        "shot_groups": groups,
        "shot_rule": rule,
        "shot_thresholds": {"many": many, "few": few},
        "test_counts": torch.bincount(labels, minlength=k).tolist(),
        **classification_report(preds, labels, k),
        "gmean_recall": geometric_mean_recall(per_class_list),
        "ece": ece,
        "reliability": reliability,
    }
