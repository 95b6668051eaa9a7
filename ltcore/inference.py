"""Decision regions of a trained 2-D model: the core rebuilds the run's model and method (a Trainer
that never trains), loads the stored weights and predicts on a grid over the test set's range."""
from __future__ import annotations

import torch

from .config import Config
from .engine.trainer import Trainer


@torch.no_grad()
def decision_grid(config: Config, state: dict, steps: int = 120, margin: float = 0.5,
                  max_points: int = 1000) -> dict:
    """Predicted class on a steps×steps grid over the test points (± margin), through the run's
    own `method.logits` (so post-hoc adjustments count), plus the test points themselves."""
    trainer = Trainer(config.replace(device="cpu"))
    trainer.model.load_state_dict(state)
    trainer.model.eval()
    x_test, y_test = trainer.test_batches.x, trainer.test_batches.y
    lo, hi = x_test.min(0).values - margin, x_test.max(0).values + margin
    xs, ys = torch.linspace(lo[0], hi[0], steps), torch.linspace(lo[1], hi[1], steps)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")                   # steps×steps, rows = y
    grid = torch.stack([gx.flatten(), gy.flatten()], 1)               # (steps², 2)
    logits = trainer.method.logits(trainer.model, trainer.test_batches.prepare(grid, train=False))
    pred = logits.argmax(1).reshape(steps, steps)
    every = max(len(y_test) // max_points, 1)                         # a readable number of dots
    return {"xs": xs.tolist(), "ys": ys.tolist(), "pred": pred.tolist(),
            "points": x_test[::every].tolist(), "point_labels": y_test[::every].tolist()}
