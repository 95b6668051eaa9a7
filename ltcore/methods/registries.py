"""The slot registries a method is composed from, and the typed hyper-parameters they take.

A slot entry's `obj` is a factory; its meta holds `paper` and `params` ({name: default}). A preset
picks one entry per slot (the slot's name is itself a parameter, e.g. `loss="focal"`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import ConfigError
from ..registry import Registry

PRESETS = Registry("method")
"""preset name → factory(params, counts, epochs, device) -> Method; meta: paper, family, params."""
SAMPLERS = Registry("sampler")
"""name → factory(counts, epochs, **params) with `.order(labels, epoch, gen)`."""
LOSSES = Registry("loss")
"""name → factory(class_counts, **params) -> ClassLoss (forward(logits, targets) → mean loss)."""
CLASSIFIERS = Registry("classifier")
"""name → factory(feat_dim, num_classes, **params) -> nn.Module head."""
AUGMENTATIONS = Registry("mixing")
"""name → factory(counts, **params) -> mixer(x, y, gen) -> (x̃, y_a, y_b, λ_y) or None for no mixing."""
REWEIGHTING = Registry("re-weighting schedule")
"""name → factory(counts, epochs, **params) with `.weight(epoch, base)` (None = the loss's own)."""
REGULARIZERS = Registry("regularizer")
"""name → factory(feat_dim, num_classes, device, **params) -> feature regulariser or None."""
POSTHOC = Registry("post-hoc adjustment")
"""name → factory(counts, **params) -> fn(logits) -> logits, applied at evaluation."""
STAGE2 = Registry("second stage")
"""name → function(method, ctx: MethodContext, **params) run after the main loop (decoupling)."""

SLOTS: dict[str, Registry] = {
    "sampler": SAMPLERS, "loss": LOSSES, "classifier": CLASSIFIERS, "mixing": AUGMENTATIONS,
    "reweight": REWEIGHTING, "regularizer": REGULARIZERS, "posthoc": POSTHOC, "stage2": STAGE2,
}
"""slot parameter name → registry of its choices."""


@dataclass(frozen=True)
class Param:
    """A method hyper-parameter: its kind (float|int|str), whether None is allowed, a range check."""

    kind: str
    help: str
    check: Callable[[object], bool] = lambda v: True
    rule: str = ""
    optional: bool = False


def _num(kind, help, check=lambda v: True, rule="", optional=False):
    return Param(kind, help, check, rule, optional)


PARAMS: dict[str, Param] = {
    **{slot: Param("str", f"{slot} slot: one of the {reg.kind} names") for slot, reg in SLOTS.items()},
    "holdout": _num("float", "fraction of each class held out of training as a validation split "
                    "(stratified, ≥1 per class with ≥2 images); None = 0.2 when tau_norm must pick τ, else 0",
                    lambda v: 0 <= v < 1, "in [0, 1)", optional=True),
    "init_from": Param("str", "transfer: start from this state-dict file (.pt), loaded with "
                       "weights_only=True; empty = random init"),
    "gamma": _num("float", "focal exponent γ (Lin et al.); 0 = CE", lambda v: v >= 0, "≥ 0"),
    "beta": _num("float", "class-balanced β (Cui et al.): effective number (1−β^n)/(1−β)",
                 lambda v: 0 <= v < 1, "in [0, 1)"),
    "max_margin": _num("float", "LDAM largest margin (of the rarest class)", lambda v: v > 0, "> 0"),
    "scale": _num("float", "LDAM logit scale s", lambda v: v > 0, "> 0"),
    "cos_scale": _num("float", "cosine classifier scale s", lambda v: v > 0, "> 0"),
    "tau": _num("float", "logit-adjustment τ (LA loss and post-hoc)", lambda v: v >= 0, "≥ 0"),
    "norm_tau": _num("float", "τ-normalisation exponent: fixed τ, or None to pick it on the "
                     "held-out split", lambda v: v >= 0, "≥ 0", optional=True),
    "sade_tau": _num("float", "SADE inverse-prior expert τ", lambda v: v >= 0, "≥ 0"),
    "drw_epoch": _num("int", "DRW: epoch (0-based) at which class-balanced weights switch on; "
                      "None = int(0.8 × epochs) (160 of 200 in Cao et al.)",
                      lambda v: v >= 0, "≥ 0", optional=True),
    "alpha": _num("float", "mixup/Remix λ ~ Beta(α, α)", lambda v: v > 0, "> 0"),
    "kappa": _num("float", "Remix κ: count ratio above which the label goes to the minority",
                  lambda v: v >= 1, "≥ 1"),
    "remix_tau": _num("float", "Remix τ: λ threshold for giving the label to the minority",
                      lambda v: 0 <= v <= 1, "in [0, 1]"),
    "lambda1": _num("float", "NC1 regulariser weight λ1 (Liu et al.)", lambda v: v > 0, "> 0"),
    "lambda2": _num("float", "NC2 regulariser weight λ2 (Liu et al.)", lambda v: v >= 0, "≥ 0"),
    "means_lr": _num("float", "learning rate of the NC class means' own SGD", lambda v: v > 0, "> 0"),
    "stage2_epochs": _num("int", "epochs of the second stage (cRT, LWS)", lambda v: v >= 1, "≥ 1"),
    "stage2_lr": _num("float", "second-stage learning rate; None = the run's lr",
                      lambda v: v > 0, "> 0", optional=True),
}


def check_value(name: str, value) -> None:
    """Raise ConfigError when `value` has the wrong type/range for parameter `name`."""
    spec = PARAMS.get(name)
    if spec is None:
        return
    if value is None:
        if not spec.optional:
            raise ConfigError(f"method parameter {name} needs a value ({spec.help})")
        return
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"method parameter {name} takes a name/text, got {value!r}")
        if name in SLOTS:
            SLOTS[name].get(value)
        return
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or (spec.kind == "int" and float(value) != int(value)):
        raise ConfigError(f"method parameter {name} takes {'an integer' if spec.kind == 'int' else 'a number'}"
                          f", got {value!r}")
    if not spec.check(value):
        raise ConfigError(f"method parameter {name} must be {spec.rule}, got {value!r}")
