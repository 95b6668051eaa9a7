"""A method is a composition of slots: sampler × loss × classifier × schedule × augmentation ×
post-hoc adjustment (× an optional second stage). The Trainer calls only the hooks below."""
from __future__ import annotations

import torch
from torch import nn


class Method:
    """Hooks the Trainer calls. Subclasses/compositions override what their paper changes.

    `counts` are the per-class training counts n_k; `epochs` the planned number of epochs.
    """

    name = "ce"

    def __init__(self, params: dict, counts: list[int], epochs: int, device: torch.device):
        self.params = dict(params)
        self.counts = list(counts)
        self.num_classes = len(counts)
        self.epochs = epochs
        self.device = device
        self.prior = torch.tensor(counts, dtype=torch.float32, device=device) / max(sum(counts), 1)

    def prepare(self, trainer) -> None:
        """Called once after the model is built, before training: may load weights (transfer, a
        reused stage-1 checkpoint) and set `trainer.skip_main_loop = True` to go straight to stage 2."""

    def make_classifier(self, feat_dim: int) -> nn.Module:
        """The classifier head (linear by default)."""
        return nn.Linear(feat_dim, self.num_classes)

    def epoch_order(self, labels: torch.Tensor, epoch: int, gen: torch.Generator) -> torch.Tensor:
        """This epoch's sample order as an index tensor on the labels' device (instance-balanced)."""
        return torch.randperm(len(labels), device=labels.device, generator=gen)

    def param_groups(self, model: nn.Module) -> list[dict]:
        """Parameter groups for the main SGD optimiser."""
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]

    def on_epoch_start(self, epoch: int) -> None:
        """Called before each epoch (DRW switches weights here)."""

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int) -> torch.Tensor:
        """Forward pass and mean loss for one batch (plain cross-entropy)."""
        return nn.functional.cross_entropy(model(x), y)

    def after_step(self) -> None:
        """Called after each optimiser step (extra optimisers step here)."""

    def logits(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Evaluation logits; post-hoc adjustments and ensembles act here."""
        return model(x)

    def second_stage(self, trainer) -> None:
        """Optional stage 2 (decoupling) run after the main loop with the trainer's data/model."""

    def summary(self) -> dict:
        """JSON-able extras stored with the run (e.g. the τ sweep curve)."""
        return {}
