"""One training step (forward, loss, backward, SGD update, running loss/accuracy sums) captured as a
CUDA graph and replayed for every full batch.

ResNet-32 at batch 128 is launch-bound on a modern GPU: a step is ~1,000 small kernels whose
launch cost exceeds their run time. A replayed graph launches them all at once (PyTorch docs,
"CUDA Graphs", whole-network capture). What the graph may not contain is kept outside: batch
selection and augmentation (device RNG) run eagerly before the replay, and a last partial batch
trains eagerly.

The SGD update inside the graph is `sgd_update` (PyTorch's SGD rule, momentum without dampening)
with the learning rate read from a device tensor, so one capture serves every epoch of a schedule;
the graph is captured again only when the loss's class weights are replaced (DRW). A method that
draws host random numbers per step (mixup, Remix) or steps a second optimiser (NC regulariser)
trains eagerly. Any capture failure falls back to eager training for the rest of the run.
"""
from __future__ import annotations

import os

import torch

WARMUP_STEPS = 3
"""Eager steps on a side stream before the first capture (lazy state: momentum buffers, cuDNN plans)."""


def graphs_wanted(device: torch.device) -> bool:
    """CUDA graphs on CUDA unless `LTLAB_CUDA_GRAPHS=0`."""
    flag = os.environ.get("LTLAB_CUDA_GRAPHS", "1").strip().lower()
    return device.type == "cuda" and flag not in ("0", "false", "no", "off")


def ineligible_reason(method, optimizer: torch.optim.Optimizer) -> str | None:
    """Why this method/optimiser cannot be replayed from a graph (None when it can)."""
    if getattr(method, "mixer", None) is not None:
        return "mixing draws λ on the host every step"
    if getattr(method, "regularizer", None) is not None:
        return "the regulariser steps its own optimiser"
    if getattr(method, "contrast", None) is not None:
        return "the contrastive term draws views and updates its queue/key encoder every step"
    if not isinstance(optimizer, torch.optim.SGD):
        return "the optimiser is not SGD"
    for group in optimizer.param_groups:
        if group.get("dampening", 0) or group.get("nesterov") or group.get("maximize"):
            return "SGD with dampening/nesterov/maximize"
    return None


@torch.no_grad()
def sgd_update(params, grads, bufs, lr: torch.Tensor, momentum: float, weight_decay: float) -> None:
    """PyTorch SGD (dampening 0, no Nesterov): d = g + wd·p; b = m·b + d; p −= lr·b. `lr` is a
    0-d device tensor, so the update is capturable and the rate can change between replays."""
    if not params:
        return
    d = torch._foreach_add(grads, params, alpha=weight_decay) if weight_decay else list(grads)
    if momentum:
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, d)
        d = bufs
    torch._foreach_sub_(params, torch._foreach_mul(d, lr))


class GraphedStep:
    """Replays the captured training step. `body(x, y)` returns the step's loss (and may add running
    sums to device tensors); it must not synchronise. `key_fn()` returns the objects whose
    replacement needs a new capture (e.g. the loss's class-weight tensor)."""

    def __init__(self, optimizer: torch.optim.SGD, body, key_fn, device: torch.device):
        self.optimizer, self.body, self.key_fn, self.device = optimizer, body, key_fn, device
        self.lrs = [torch.zeros((), device=device) for _ in optimizer.param_groups]
        self.graph = None
        self.key = None
        self.keep = None
        self.eager_steps = 0
        self.captures = 0
        self.failed = ""
        self.static_x = self.static_y = None

    # -- eager steps (warm-up and the fallback) -------------------------------------------------
    def eager(self, x, y) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.body(x, y)
        loss.backward()
        self.optimizer.step()

    def _sgd(self) -> None:
        for group, lr in zip(self.optimizer.param_groups, self.lrs):
            params = [p for p in group["params"] if p.grad is not None]
            bufs = [self.optimizer.state[p]["momentum_buffer"] for p in params] if group["momentum"] else []
            sgd_update(params, [p.grad for p in params], bufs, lr, group["momentum"], group["weight_decay"])

    def _capture(self, x, y, key, keep) -> None:
        self.static_x, self.static_y = torch.empty_like(x), torch.empty_like(y)
        self.static_x.copy_(x)
        self.static_y.copy_(y)
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            loss = self.body(self.static_x, self.static_y)
            loss.backward()
            self._sgd()
        self.graph, self.key, self.keep = graph, key, keep  # `keep` holds the keyed tensors alive
        self.captures += 1

    def set_lr(self) -> None:
        """Copy the optimiser's current rates into the graph's rate tensors (a kernel, no sync)."""
        for t, group in zip(self.lrs, self.optimizer.param_groups):
            t.fill_(group["lr"])

    def __call__(self, x, y) -> None:
        if self.failed:
            return self.eager(x, y)
        if self.eager_steps < WARMUP_STEPS:
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                self.eager(x, y)
            torch.cuda.current_stream(self.device).wait_stream(side)
            self.eager_steps += 1
            return None
        keep = tuple(self.key_fn())
        key = tuple(id(o) for o in keep)
        if self.graph is None or key != self.key or x.shape != self.static_x.shape:
            try:
                self._capture(x, y, key, keep)
            except Exception as exc:  # noqa: BLE001 - any capture problem: train eagerly instead
                self.graph, self.failed = None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                self.optimizer.zero_grad(set_to_none=True)
                return self.eager(x, y)
        else:
            self.static_x.copy_(x)
            self.static_y.copy_(y)
        self.graph.replay()
        return None

    def summary(self) -> dict:
        return {"captures": self.captures, "fallback": self.failed or None}
