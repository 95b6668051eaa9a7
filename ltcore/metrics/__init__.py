"""Metrics computed from real predictions and features (tensors in, floats/lists out)."""
from .report import evaluate_logits
from .shots import GROUPS, per_class_accuracy, shot_accuracy, shot_groups

__all__ = ["GROUPS", "evaluate_logits", "per_class_accuracy", "shot_accuracy", "shot_groups"]
