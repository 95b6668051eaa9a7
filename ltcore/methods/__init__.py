"""Method registries: presets users know, and the slots they compose."""
from __future__ import annotations

import torch

from ..errors import ConfigError
from ..registry import Registry
from .base import Method

PRESETS = Registry("method")
"""preset name → Method subclass/factory(params, counts, epochs, device); meta: paper, params."""
LOSSES = Registry("loss")
SAMPLERS = Registry("sampler")
CLASSIFIERS = Registry("classifier")

PRESETS.add("ce", Method, "plain cross-entropy with instance-balanced sampling (the baseline)",
            paper="—", params={})


def check_params(method: str, params: dict) -> None:
    """Reject hyper-parameters the preset does not take."""
    allowed = PRESETS.get(method).meta.get("params", {})
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        hint = f"; it takes: {', '.join(allowed)}" if allowed else "; it takes none"
        raise ConfigError(f"method {method!r} has no parameter(s) {', '.join(unknown)}{hint}")


def build_method(name: str, params: dict, counts: list[int], epochs: int,
                 device: torch.device) -> Method:
    """Instantiate a preset with its defaults overridden by `params`."""
    entry = PRESETS.get(name)
    check_params(name, params)
    merged = {**entry.meta.get("params", {}), **params}
    return entry.obj(merged, counts, epochs, device)


__all__ = ["CLASSIFIERS", "LOSSES", "Method", "PRESETS", "SAMPLERS", "build_method", "check_params"]
