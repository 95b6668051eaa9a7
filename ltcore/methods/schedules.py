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


class DataSetReweighting(DeferredReweighting):
    """BKD's class weights (EricZsy/BalancedKnowledgeDistillation `train_student.py` L124-127 and
    L223-237): deferred re-weighting on CIFAR-10 (`DRW`), class-balanced weights from the first
    epoch on every other data set (`Reweight`), both with β = 0.9999. The data set is the run's
    `dataset` name, known at `prepare`; an image folder of CIFAR-10 files counts as another set."""

    DRW_SETS = ("cifar10",)

    def __init__(self, counts, epochs, drw_epoch: int | None = None, beta: float = 0.9999):
        super().__init__(counts, epochs, drw_epoch, beta)
        self.deferred = self.start

    def prepare(self, ctx, kept) -> None:
        self.start = self.deferred if ctx.config.dataset in self.DRW_SETS else 0


def logit_adjustment(counts, tau: float = 1.0):
    """Menon et al. ICLR'21 Eq. 9: predict with z_k − τ log π_k (τ = 0 is the identity)."""
    offset = float(tau) * log_prior(counts)

    def adjust(logits: torch.Tensor) -> torch.Tensor:
        return logits - offset.to(logits.device, logits.dtype)

    return adjust


REWEIGHTING.add("none", NoReweighting, "no re-weighting schedule", paper="—", params={})
DRW_PARAMS = {"drw_epoch": integer(None, "DRW: epoch (0-based) at which class-balanced weights switch on; "
                                   "None = int(0.8 × epochs) (160 of 200 in Cao et al.)", lambda v: v >= 0, "≥ 0",
                                   optional=True),
              "beta": BETA}
REWEIGHTING.add("drw", DeferredReweighting, "deferred re-weighting: class-balanced weights from "
                "drw_epoch on (any loss)", paper="Cao et al. NeurIPS'19", params=DRW_PARAMS)
REWEIGHTING.add("by_dataset", DataSetReweighting, "class-balanced weights as BKD's authors: deferred "
                "(DRW) on CIFAR-10, from the first epoch on every other data set",
                paper="Zhang et al. 2021 (BKD)", params=DRW_PARAMS)
POSTHOC.add("none", lambda counts: None, "no adjustment at evaluation", paper="—", params={})
POSTHOC.add("logit_adjust", logit_adjustment, "post-hoc logit adjustment z − τ log π",
            paper="Menon et al. ICLR'21", params={"tau": TAU})
