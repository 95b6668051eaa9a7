"""The method zoo: slot registries, named presets and their composition (see registries.SLOTS)."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import torch

from ..engine.checkpoints import checkpoint_dir
from ..data import DATASETS
from ..errors import ConfigError
from ..models import MODELS
from ..safety import check_config_paths
from .base import Method, MethodContext
from .registries import (AUGMENTATIONS, CLASSIFIERS, LOSSES, PARAMS, POSTHOC, PRESETS, REGULARIZERS,
                         REWEIGHTING, SAMPLERS, SLOTS, STAGE2, check_value, reject_unknown)
from .compose import (COMMON, MEASUREMENT_ONLY, ComposedMethod, check_combination, slot_choices,
                      stage1_config)
from .losses import build_loss


BUILT_IN = ("classifiers", "losses", "mixing", "regularizers", "samplers", "schedules", "stage2")
"""Modules with each slot's basic entries ("none" first), imported before any added method."""


def _register_slot_entries() -> None:
    """Import every module of this package (each registers its slot entries), then the presets: a
    new method is one module here plus one `preset(...)` line (see docs/adding-a-method.md)."""
    added = sorted(m.name for m in pkgutil.iter_modules(__path__))
    for name in [*BUILT_IN, *(m for m in added if m not in BUILT_IN and m not in ("presets", "listing"))]:
        importlib.import_module(f"{__name__}.{name}")
    importlib.import_module(f"{__name__}.presets")


_register_slot_entries()


def resolve_params(method: str, params: dict, required: bool = True) -> dict:
    """The preset's full parameters with `params` applied; raises ConfigError on anything invalid
    (with `required=False`, a parameter the preset needs, e.g. kd's teacher, may still be empty:
    what an editor shows before the user has chosen it)."""
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
    for name in entry.meta.get("requires", ()) if required else ():
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
    model = DATASETS.get(config.dataset).meta.get("model", "mlp") if config.model == "auto" else config.model
    if config.pretrained and not MODELS.get(model).meta.get("pretrained"):
        with_weights = ", ".join(n for n in MODELS.names() if MODELS.get(n).meta.get("pretrained"))
        raise ConfigError(f"--pretrained loads published weights for {with_weights}, not {model!r}: "
                          f"add --model {with_weights.split(', ')[0]}")
    PRESETS.get(config.method)
    chosen = slot_choices(resolve_params(config.method, config.params))
    meta = DATASETS.get(config.dataset).meta
    shape = meta.get("shape") or ()
    for slot, name in chosen.items():
        if SLOTS[slot].get(name).meta.get("needs_images") and len(shape) != 3:
            raise ConfigError(f"{slot} {name!r} works on images; the {config.dataset} data set has "
                              f"vectors of shape {tuple(shape)}: choose another {slot} or an image data set")
    if meta.get("needs_path") and not config.data_path:
        raise ConfigError(f"the {config.dataset} data set needs a folder: set data_path "
                          "(--data-path) to a folder of class sub-folders")
    model = meta.get("model", "mlp") if config.model == "auto" else config.model
    if MODELS.get(model).meta.get("inputs") == "image" and meta.get("kind") == "vector":
        raise ConfigError(f"model {model!r} takes images, but {config.dataset} holds vectors of shape "
                          f"{tuple(meta.get('shape', ()))}; use model 'auto' or 'mlp'")
    check_config_paths(config)  # the shared server's one path check (data_path, init_from)


def stage1_checkpoint(config, root, version: str) -> Path | None:
    """The stage-1 checkpoint file a run of `config` writes under `root` (code `version`), or None
    when it writes none (one-stage methods that are not themselves a stage 1)."""
    try:
        if PRESETS.get(config.method).meta.get("slots") is None:
            return None
        params = resolve_params(config.method, config.params)
        first = stage1_config(config, params)
    except ConfigError:  # a config of an older code version: nothing to point at
        return None
    is_stage1 = config.replace(**MEASUREMENT_ONLY).run_id == first.run_id
    if slot_choices(params)["stage2"] == "none" and not is_stage1:
        return None
    return checkpoint_dir(root) / f"{first.run_id}-{version}.pt"


def build_method(name: str, params: dict, counts: list[int], epochs: int,
                 device: torch.device) -> Method:
    """Instantiate a preset with its defaults overridden by `params`."""
    method = PRESETS.get(name).obj(resolve_params(name, params), counts, epochs, device)
    method.name = name
    return method


def method_for_model(config, counts: list[int], device: torch.device, make_model):
    """(method, model) of a run in one call: the preset with the config's parameters, then the
    network from `make_model()` (built after the method, so the random draws stay in that order)
    with the method's change to the backbone (`adapt_model`, e.g. SADE's experts) and its classifier
    head as `model.classifier`. The Trainer builds a run with it, and hands it to methods
    (MethodContext.build_method) that rebuild another run's network."""
    method = build_method(config.method, config.params, counts, config.epochs, device)
    model = make_model()
    method.adapt_model(model)
    model.classifier = method.make_classifier(model.feature_dim)
    return method, model


__all__ = ["AUGMENTATIONS", "CLASSIFIERS", "LOSSES", "Method", "MethodContext", "PARAMS", "POSTHOC", "PRESETS",
           "REGULARIZERS", "REWEIGHTING", "SAMPLERS", "SLOTS", "STAGE2", "ComposedMethod", "build_loss",
           "build_method", "check_config", "method_for_model", "check_params", "resolve_params", "stage1_checkpoint"]
