"""Instant what-ifs: post-hoc changes of a trained classifier recomputed from stored outputs, no
retraining. Two knobs of the long-tail literature act only on the last layer:

- post-hoc logit adjustment (Menon et al. ICLR'21, Eq. 9): predict argmax_k z_k − τ_LA · log π_k;
- τ-normalisation (Kang et al. ICLR'20, Eq. 3): w̃_k = w_k / ‖w_k‖^τ, z = W̃h + b.

`prepare` runs the stored model once over the test set (and, for 2-D data, a grid over the plane)
and keeps its penultimate features, raw logits and classifier; `evaluate` is then a pure function of
those tensors and the two τ values: one (N×d)·(d×K) product and a few bincounts, milliseconds. The
numbers equal those of a run trained with `la_posthoc` (τ) or `tau_norm` (norm_tau) on the same
weights, because the formulas and metric code are the ones those methods use.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import Config
from .methods.classifiers import tau_normalize
from .methods.losses import log_prior
from .metrics.shots import per_class_accuracy, shot_accuracy, shot_groups
from .metrics.tracking import classifier_params


@dataclass(frozen=True)
class Outputs:
    """What a trained model says about the test set (and a grid of the plane, for 2-D data)."""

    features: torch.Tensor            # (N, d) penultimate features h of the test images
    logits: torch.Tensor              # (N, K) the model's logits before any post-hoc adjustment
    labels: torch.Tensor              # (N,)
    weight: torch.Tensor | None       # (K, d) linear classifier rows w_k (None: no linear head)
    bias: torch.Tensor | None         # (K,)
    counts: tuple[int, ...]           # training images per class n_k (the prior π_k ∝ n_k)
    class_names: tuple[str, ...]
    grid: dict | None = None          # {xs, ys, features (S², d), logits (S², K), points, point_labels}

    @property
    def can_tau_norm(self) -> bool:
        return self.weight is not None


@torch.no_grad()
def prepare(config: Config, state: dict, grid_steps: int = 100, margin: float = 0.5,
            max_points: int = 1000) -> Outputs:
    """Rebuild the run's model (a Trainer that never trains), load its weights and record the test
    set's features and logits — with the method's own evaluation logits minus any post-hoc
    adjustment, so the what-if starts from the classifier the method trained."""
    from .engine.trainer import Trainer

    trainer = Trainer(config.replace(device="cpu"))
    trainer.model.load_state_dict(state)
    trainer.model.eval()
    method = trainer.method
    posthoc, method.posthoc = getattr(method, "posthoc", None), None    # the raw scores z
    try:
        logits, feats = trainer.predict(trainer.test_batches, with_features=True)
        weight, bias = classifier_params(trainer.model, trainer.num_classes, feats.shape[1])
        if weight is not None and getattr(method, "choice", {}).get("loss") == "ldam":
            weight = None        # a cosine head scaled by s: z is not Wh + b, τ-norm does not apply
        grid = None
        x_test, y_test = trainer.test_batches.x, trainer.test_batches.y
        if x_test.dim() == 2 and x_test.shape[1] == 2:
            lo, hi = x_test.min(0).values - margin, x_test.max(0).values + margin
            xs, ys = torch.linspace(lo[0], hi[0], grid_steps), torch.linspace(lo[1], hi[1], grid_steps)
            gx, gy = torch.meshgrid(xs, ys, indexing="xy")
            points = trainer.test_batches.prepare(torch.stack([gx.flatten(), gy.flatten()], 1), train=False)
            every = max(len(y_test) // max_points, 1)
            grid = {"xs": xs.tolist(), "ys": ys.tolist(), "features": trainer.model.features(points).float(),
                    "logits": method.logits(trainer.model, points).float(),
                    "points": x_test[::every].tolist(), "point_labels": y_test[::every].tolist()}
    finally:
        if posthoc is not None:
            method.posthoc = posthoc
    return Outputs(feats.float(), logits.float(), trainer.test_batches.y.cpu().long(), weight, bias,
                   tuple(method.counts), tuple(str(c) for c in trainer.data.split.classes), grid)


def adjusted_logits(features: torch.Tensor, logits: torch.Tensor, weight: torch.Tensor | None,
                    bias: torch.Tensor | None, counts, la_tau: float = 0.0, norm_tau: float = 0.0) -> torch.Tensor:
    """z − τ_LA·log π with z = (W/‖W‖^τ_norm) h, no bias, as the `tau_norm` stage and Kang et al.'s
    `tau_norm.py` (or the given `logits` when τ_norm = 0 or there is no linear head). Pure: tensors
    in, tensor out."""
    if norm_tau and weight is not None:
        z = features @ tau_normalize(weight, norm_tau).t()
    else:
        z = logits
    if la_tau:
        z = z - float(la_tau) * log_prior(list(counts)).to(z.device, z.dtype)
    return z


def accuracies(preds: torch.Tensor, labels: torch.Tensor, counts) -> dict:
    """Overall, balanced, per-class and many/medium/few-shot accuracy, computed exactly as
    `metrics.evaluate_logits` does (same functions, same groups)."""
    k = len(counts)
    per_class = per_class_accuracy(preds, labels, k)
    groups, rule = shot_groups(list(counts))
    values = [None if torch.isnan(a) else float(a) for a in per_class]
    defined = [v for v in values if v is not None]
    return {"overall_acc": float((preds == labels).float().mean()) if len(labels) else None,
            "balanced_acc": sum(defined) / len(defined) if defined else None,
            "per_class_acc": values, "shot_acc": shot_accuracy(per_class, groups),
            "shot_groups": groups, "shot_rule": rule,
            "pred_counts": torch.bincount(preds, minlength=k).tolist()}


def evaluate(outputs: Outputs, la_tau: float = 0.0, norm_tau: float = 0.0) -> dict:
    """Test-set accuracies (and, for 2-D data, the predicted class over the grid) of the model
    with post-hoc logit adjustment τ_LA and τ-normalisation τ_norm applied."""
    if norm_tau and not outputs.can_tau_norm:
        raise ValueError("τ-normalisation needs a linear classifier head z = Wh + b")
    z = adjusted_logits(outputs.features, outputs.logits, outputs.weight, outputs.bias, outputs.counts,
                        la_tau, norm_tau)
    out = {"la_tau": float(la_tau), "norm_tau": float(norm_tau),
           **accuracies(z.argmax(1), outputs.labels, outputs.counts)}
    if outputs.grid is not None:
        g = outputs.grid
        zg = adjusted_logits(g["features"], g["logits"], outputs.weight, outputs.bias, outputs.counts,
                             la_tau, norm_tau)
        steps = len(g["ys"]), len(g["xs"])
        out["grid"] = {"xs": g["xs"], "ys": g["ys"], "pred": zg.argmax(1).reshape(steps).numpy(),
                       "points": g["points"], "point_labels": g["point_labels"]}
    return out
