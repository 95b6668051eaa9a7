"""Neural-collapse tracking during training (filled in by the metrics work)."""
from __future__ import annotations


def on_epoch(trainer, epoch: int) -> None:
    """Called by the Trainer after each epoch (1-based `epoch`); may add to trainer.extras."""


def on_end(trainer) -> None:
    """Called by the Trainer once after training (also for stopped runs)."""
