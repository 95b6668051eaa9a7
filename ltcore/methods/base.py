"""A method is a composition of slots: sampler × loss × classifier × schedule × augmentation ×
post-hoc adjustment (× an optional second stage). The Trainer calls only the hooks below, and a
method sees of the run only its MethodContext (never the Trainer itself)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

import torch
from torch import nn


@dataclass(frozen=True)
class MethodContext:
    """Everything a method may use of the run that trains it; the Trainer builds one and hands it to
    `Method.prepare` and `Method.second_stage`.

    Methods read these fields and never set any: a method that wants the main loop skipped returns
    True from `prepare`; a second stage that sees `should_stop()` simply returns early (the call
    itself records the Stop for the Trainer).
    """

    config: Any
    """the run's Config (read: seed, batch_size, lr, momentum, weight_decay, run_id, replace())."""
    model: nn.Module
    """backbone + `.classifier`; a method may load weights into it or install a new classifier."""
    train_batches: Any
    """the training data on the device (a DeviceBatches: `.y`, `.batches(idx, bs)`, `.augment`)."""
    device: torch.device
    gen: torch.Generator
    """the run's random generator on `device` (sampling orders, stage-2 draws)."""
    autocast: Callable[[], ContextManager]
    """the run's mixed-precision context (bf16 where the Trainer enabled it)."""
    emit: Callable[[dict], None]
    """send a progress event (e.g. {"type": "stage2", ...}) to the run's listeners."""
    should_stop: Callable[[], bool]
    """True once the user pressed Stop; a loop checks it after each step/epoch and ends early."""
    checkpoint_root: Path | None = None
    """folder of stage-1 checkpoints (None = `<data dir>/checkpoints`)."""
    save_checkpoints: bool = True
    """whether this run may write its stage-1 model there."""
    val_batches: Any = None
    """the balanced validation split on the device (a DeviceBatches; `len()` 0 when the data set
    has none): choose hyper-parameters (τ of τ-norm, of post-hoc LA) here, never on the test set."""
    find_run: Callable[[str], tuple] | None = None
    """a stored run id (or unique prefix) → (its Config, its model state dict), from the run store
    this run is recorded in (distillation teachers); None when the run has no store."""
    stage1_record: Callable[[], dict] | None = None
    """the run's stage 1 so far (epochs, seconds, history, nc_history, snapshots): saved beside a
    stage-1 checkpoint, so a run that reuses it can show what stage 1 was."""
    test_inputs: Any = None
    """the test set on the device (a DeviceBatches), for transductive steps that use its inputs
    only, never its labels (SADE's test-time aggregation)."""
    build_method: Callable[..., tuple] | None = None
    """(config, counts, device, make_model) → (that config's Method, the network of `make_model()`
    adapted and given its classifier head): `methods.method_for_model`, how a method rebuilds another
    run's network (a distillation teacher) without importing the method package back."""


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

    def prepare(self, ctx: MethodContext) -> bool:
        """Called once after the model is built, before training: may load weights (transfer, a
        reused stage-1 checkpoint). Returns True to skip the main loop and go straight to stage 2."""
        return False

    def reused_stage1_record(self) -> dict | None:
        """When `prepare` loaded a stored stage-1 model: the record saved with it (epochs, seconds,
        history, nc_history, snapshots; {} when none was saved), else None."""
        return None
    def adapt_model(self, model: nn.Module) -> None:
        """Called on the freshly built model before its classifier is made (SADE splits the backbone
        into shared layers and experts here)."""

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

    def second_stage(self, ctx: MethodContext) -> None:
        """Optional stage 2 (decoupling) run after the main loop on the run's data and model."""

    def summary(self) -> dict:
        """JSON-able extras stored with the run (e.g. the τ sweep curve)."""
        return {}
