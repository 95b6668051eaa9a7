"""The method zoo: slot registries, named presets and their composition (see registries.SLOTS)."""
from __future__ import annotations

import torch

from ..data import DATASETS
from ..errors import ConfigError
from ..models import MODELS
from .base import Method, MethodContext
from .registries import (AUGMENTATIONS, CLASSIFIERS, LOSSES, PARAMS, POSTHOC, PRESETS, REGULARIZERS,
                         REWEIGHTING, SAMPLERS, SLOTS, STAGE2, check_value, reject_unknown)
from . import classifiers, losses, mixing, regularizers, samplers, schedules, stage2  # noqa: F401
from .compose import COMMON, ComposedMethod, check_combination
from .losses import build_loss
from . import presets  # noqa: F401  (registers the presets)


def resolve_params(method: str, params: dict) -> dict:
    """The preset's full parameters with `params` applied; raises ConfigError on anything invalid."""
    entry = PRESETS.get(method)
    slots = entry.meta.get("slots")
    merged = {}
    if slots is not None:
        merged.update({**slots, **COMMON})
        for slot, registry in SLOTS.items():
            choice = params.get(slot, slots[slot])
            check_value(slot, choice)
            merged.update(registry.get(choice).meta.get("params", {}))
    merged.update(entry.meta.get("params", {}))
    reject_unknown(f"method {method!r}", params, merged)
    for name, value in params.items():
        check_value(name, value)
    merged.update(params)
    for name in entry.meta.get("requires", ()):
        if not merged.get(name):
            raise ConfigError(f"method {method!r} needs {name}: {PARAMS[name].help}")
    if slots is not None:
        check_combination(merged)
    return merged


def check_params(method: str, params: dict) -> None:
    """Reject hyper-parameters the preset does not take, bad values and impossible slot combinations."""
    resolve_params(method, params)


def check_config(config) -> None:
    """Check a run configuration's names against the registries (data set, model, method preset and
    its parameters); raises ConfigError. `Config.validate` calls this."""
    DATASETS.get(config.dataset)
    if config.model != "auto":
        MODELS.get(config.model)
    PRESETS.get(config.method)
    check_params(config.method, config.params)
    if DATASETS.get(config.dataset).meta.get("needs_path") and not config.data_path:
        raise ConfigError(f"the {config.dataset} data set needs a folder: set data_path "
                          "(--data-path) to a folder of class sub-folders")


def build_method(name: str, params: dict, counts: list[int], epochs: int,
                 device: torch.device) -> Method:
    """Instantiate a preset with its defaults overridden by `params`."""
    method = PRESETS.get(name).obj(resolve_params(name, params), counts, epochs, device)
    method.name = name
    return method


__all__ = ["AUGMENTATIONS", "CLASSIFIERS", "LOSSES", "Method", "MethodContext", "PARAMS", "POSTHOC", "PRESETS",
           "REGULARIZERS", "REWEIGHTING", "SAMPLERS", "SLOTS", "STAGE2", "ComposedMethod", "build_loss",
           "build_method", "check_config", "check_params", "resolve_params"]
