"""Metrics computed from real predictions and features (tensors in, floats/lists out)."""
from .calibration import expected_calibration_error, reliability_bins
from .minority import minority_collapse, tail_classes
from .neural_collapse import NCInputError, NCWarning, neural_collapse
from .projection import pca_basis, project_snapshot, project_snapshots
from .relative import reference_configs, relative_accuracy
from .report import evaluate_logits, geometric_mean_recall
from .shots import GROUPS, per_class_accuracy, shot_accuracy, shot_groups

__all__ = ["GROUPS", "NCInputError", "NCWarning", "evaluate_logits", "expected_calibration_error",
           "geometric_mean_recall", "minority_collapse", "neural_collapse", "pca_basis",
           "per_class_accuracy", "project_snapshot", "project_snapshots", "reference_configs",
           "relative_accuracy", "reliability_bins", "shot_accuracy",
           "shot_groups", "tail_classes"]
