"""`torch.compile` of the backbone for the training step (off by default: `LTLAB_COMPILE`).

ResNet-32 at batch 128 is bound by its ~1,000 small kernels per step, not by arithmetic. Inductor
fuses the element-wise work around each convolution (BatchNorm, ReLU, the residual add, and their
backward), which cuts the kernel count; the CUDA graph of cuda_graph.py then replays the fused
kernels. The two compose: compile with a mode that makes no CUDA graphs of its own ("default",
"max-autotune-no-cudagraphs"); "reduce-overhead" uses inductor's own CUDA graphs, so ltcore's graph
step is switched off under it.

Only the backbone's forward is compiled, and only used for the main loop's full training batches
(`CompiledFeatures.applies`): the last partial batch, evaluation (fp32, eval mode), second stages and
any copy of the model run the eager module. One input shape and one autocast/train state means one
compilation per run (no recompiles when the batch size or mode changes), and the classifier (its
forward hook reads the training logits) stays outside the compiled code. Parameters are shared with
the eager module, so the run is the same training in meaning; only floating-point rounding of the
fused kernels differs.

    LTLAB_COMPILE=0|1|default|max-autotune-no-cudagraphs|reduce-overhead|max-autotune
    LTLAB_COMPILE_BACKEND=inductor (default) | aot_eager (tests: the same tracing, no code generation)
"""
from __future__ import annotations

import os
import time

import torch

from ..errors import LTError

MODES = ("default", "max-autotune-no-cudagraphs", "reduce-overhead", "max-autotune")
OWN_CUDA_GRAPHS = ("reduce-overhead", "max-autotune")
"""Modes in which inductor captures CUDA graphs itself: ltcore's graph step stays off."""
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")


def compile_mode(config_compile: bool = False) -> str | None:
    """The torch.compile mode to use, or None: `LTLAB_COMPILE` when set (0 turns it off even for a
    config with `compile=True`), else "default" when the config asks for compilation."""
    flag = os.environ.get("LTLAB_COMPILE", "").strip().lower()
    if not flag:
        return "default" if config_compile else None
    if flag in _OFF:
        return None
    if flag in _ON:
        return "default"
    if flag in MODES:
        return flag
    raise LTError(f"LTLAB_COMPILE={flag!r} is not understood; use 0, 1 or a torch.compile mode: {', '.join(MODES)}")


def compile_backend() -> str:
    return os.environ.get("LTLAB_COMPILE_BACKEND", "").strip() or "inductor"


class CompiledFeatures:
    """The compiled forward of `backbone`, used by LTModel.features for full training batches only.

    `first_call_s` is the wall time of the first compiled call (tracing and code generation happen
    there), so a benchmark can report compilation apart from steady-state speed."""

    def __init__(self, backbone: torch.nn.Module, batch_size: int, mode: str, backend: str | None = None):
        self.backbone, self.batch_size, self.mode = backbone, batch_size, mode
        self.backend = backend or compile_backend()
        options = {"mode": mode} if self.backend == "inductor" and mode != "default" else {}
        self.fn = torch.compile(backbone.forward, backend=self.backend, dynamic=False, **options)
        self.calls = 0
        self.first_call_s: float | None = None

    def applies(self, model: torch.nn.Module, x: torch.Tensor) -> bool:
        """A full training batch through this very backbone (not a copy of the model), with grads."""
        return (model.backbone is self.backbone and model.training and torch.is_grad_enabled()
                and x.shape[0] == self.batch_size)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.first_call_s is None:
            t = time.perf_counter()
            out = self.fn(x)
            self.first_call_s = time.perf_counter() - t
            return out
        return self.fn(x)

    def summary(self) -> dict:
        return {"mode": self.mode, "backend": self.backend, "calls": self.calls,
                "first_call_s": None if self.first_call_s is None else round(self.first_call_s, 2)}
