"""The training loop, once: the Trainer's main loop and every method stage that trains parameters
itself (SSP's pre-training, CReST's generations, cRT/LWS's classifier re-training) are built from
the pieces here, so a Stop, a progress event, the learning-rate schedule and a diverged loss behave
the same in all of them.

- `lr_at`: the learning rate of an epoch (warm-up, then the run's schedule);
- `epoch_batches`: an epoch's batches in a sampler's order, without a last batch of one sample;
- `run_steps`: one step per batch, asking `should_stop()` after every step;
- `optimizer_step`: zero the gradients, backward, step;
- `mean_loss`: an epoch's mean loss, or `TrainingDiverged` when it is NaN/inf;
- `train_epochs`: these together for a method's stage: "train for E epochs with this loss on these
  batches", with a progress event per epoch.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from ..errors import LTError

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


class TrainingDiverged(LTError):
    """The loss became NaN/inf; the run stops with what it had."""


def lr_at(config, epoch: int, epochs: int | None = None) -> float:
    """Learning rate for `epoch` of `epochs` (default: the run's `config.epochs`): linear warm-up,
    then multistep / cosine / constant. Method stages that train with the run's recipe (SSP's
    pre-training, CReST's generations, as their authors do) pass their own number of epochs."""
    base = config.lr
    if epoch < config.warmup_epochs:
        return base * (epoch + 1) / config.warmup_epochs
    if config.schedule == "multistep":
        return base * config.lr_gamma ** sum(epoch >= m for m in config.milestones)
    if config.schedule == "cosine":
        span = max((config.epochs if epochs is None else epochs) - config.warmup_epochs, 1)
        return base * 0.5 * (1 + math.cos(math.pi * (epoch - config.warmup_epochs) / span))
    return base


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate to `lr` times its `lr_scale` (1 when absent)."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


def epoch_batches(batches, order: torch.Tensor, batch_size: int) -> Batches:
    """The batches of `batches` (a DeviceBatches) in `order`; a last batch of one sample would break
    BatchNorm and is dropped, smaller remainders still train."""
    return batches.batches(order, batch_size, drop_last=len(order) % batch_size == 1)


def run_steps(batches: Batches, step: Callable[[torch.Tensor, torch.Tensor], None],
              should_stop: Callable[[], bool]) -> tuple[int, bool]:
    """`step(xb, yb)` for every batch; `should_stop()` is asked after each step, so a Stop ends the
    epoch after the step in progress. Returns (steps taken, stopped)."""
    steps = 0
    for xb, yb in batches:
        step(xb, yb)
        steps += 1
        if should_stop():
            return steps, True
    return steps, False


def optimizer_step(optimizer: torch.optim.Optimizer, loss_fn: Callable[[], torch.Tensor]) -> torch.Tensor:
    """One plain optimiser step on `loss_fn()`; returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    optimizer.step()
    return loss


def mean_loss(total, steps: int, where: str) -> float:
    """`total / steps` (a float or a 0-dim tensor summed over the steps) as a float; a NaN/inf mean
    raises TrainingDiverged naming `where` (e.g. "epoch 3")."""
    mean = float(total) / max(steps, 1)
    if not math.isfinite(mean):
        raise TrainingDiverged(f"loss became {mean} in {where}; try a smaller learning rate")
    return mean


def train_epochs(ctx, optimizer: torch.optim.Optimizer, epochs: int,
                 loss_fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor],
                 batches_fn: Callable[[int], Batches], progress: dict, *, history: list | None = None,
                 lr: Callable[[int], float] | None = None, modules=None,
                 on_epoch_start: Callable[[int], None] | None = None,
                 after_step: Callable[[], None] | None = None) -> list[float]:
    """Train for `epochs` epochs, the loop of a method's stage; returns `history`, the mean loss per
    epoch (appended to the list given, e.g. one shared by several generations).

    Each epoch: the learning rate `lr(epoch)` (default: the run's schedule stretched over `epochs`),
    `on_epoch_start(epoch)`, `modules` in train mode (default: the model), then for every (xb, yb)
    of `batches_fn(epoch)` one step of `optimizer` on `loss_fn(xb, yb, epoch)` under the run's
    autocast, `after_step()` after each. The epoch's mean loss is emitted as
    `{**progress, "epoch": len(history), "loss": mean}` (`progress` names the stage: type, stage,
    epochs). A Stop (`ctx.should_stop()`) ends the stage after the step in progress, once that
    epoch is recorded and emitted; a NaN/inf mean loss raises TrainingDiverged.
    """
    history = [] if history is None else history
    schedule = lr or (lambda epoch: lr_at(ctx.config, epoch, epochs))
    modules = (ctx.model,) if modules is None else tuple(modules)
    for epoch in range(epochs):
        set_lr(optimizer, schedule(epoch))
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        for module in modules:
            module.train()
        total = torch.zeros((), device=ctx.device)

        def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
            def loss() -> torch.Tensor:
                with ctx.autocast():
                    return loss_fn(xb, yb, epoch)
            value = optimizer_step(optimizer, loss)
            if after_step is not None:
                after_step()
            total.add_(value.detach().float())

        steps, _ = run_steps(batches_fn(epoch), step, ctx.should_stop)
        history.append(mean_loss(total, steps, f"{progress.get('stage', 'a stage')} epoch {epoch + 1}"))
        ctx.emit({**progress, "epoch": len(history), "loss": history[-1]})
        if ctx.should_stop():
            break
    return history
