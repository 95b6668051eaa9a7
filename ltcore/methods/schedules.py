"""Training-schedule and evaluation-time slots: deferred re-weighting and post-hoc logit adjustment."""
from __future__ import annotations

import torch

from .losses import BETA, TAU, class_balanced_weights, log_prior
from .registries import POSTHOC, REWEIGHTING, integer

DRW_FRACTION = 0.8
"""Cao et al. switch weights on at epoch 160 of 200; other lengths keep the same fraction."""


def drw_start(drw_epoch: int | None, epochs: int) -> int:
    """The epoch (0-based) at which DRW turns its weights on: `drw_epoch`, else int(0.8 × epochs)."""
    return int(drw_epoch) if drw_epoch is not None else max(1, int(DRW_FRACTION * epochs))


class NoReweighting:
    """The loss keeps its own class weights all run."""

    def __init__(self, counts, epochs):
        self.start = None

    def weight(self, epoch: int, base: torch.Tensor | None) -> torch.Tensor | None:
        return base


class DeferredReweighting:
    """Cao et al. NeurIPS'19 §3.3 (DRW): the loss as is until `drw_epoch`, then class-balanced
    weights (1−β)/(1−β^{n_k}) (Cui et al.), β = 0.9999."""

    def __init__(self, counts, epochs, drw_epoch: int | None = None, beta: float = 0.9999):
        self.start = drw_start(drw_epoch, epochs)
        self.cb = class_balanced_weights(counts, beta)

    def weight(self, epoch, base):
        return self.cb if epoch >= self.start else base


def logit_adjustment(counts, tau: float = 1.0):
    """Menon et al. ICLR'21 Eq. 9: predict with z_k − τ log π_k (τ = 0 is the identity)."""
    offset = float(tau) * log_prior(counts)

    def adjust(logits: torch.Tensor) -> torch.Tensor:
        return logits - offset.to(logits.device, logits.dtype)

    return adjust


REWEIGHTING.add("none", NoReweighting, "no re-weighting schedule", paper="—", params={})
REWEIGHTING.add("drw", DeferredReweighting, "deferred re-weighting: class-balanced weights from "
                "drw_epoch on (any loss)", paper="Cao et al. NeurIPS'19",
                params={"drw_epoch": integer(None, "DRW: epoch (0-based) at which class-balanced weights "
                                             "switch on; None = int(0.8 × epochs) (160 of 200 in Cao et al.)",
                                             lambda v: v >= 0, "≥ 0", optional=True),
                        "beta": BETA})
POSTHOC.add("none", lambda counts: None, "no adjustment at evaluation", paper="—", params={})
POSTHOC.add("logit_adjust", logit_adjustment, "post-hoc logit adjustment z − τ log π",
            paper="Menon et al. ICLR'21", params={"tau": TAU})
