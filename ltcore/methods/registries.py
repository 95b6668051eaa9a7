"""The slot registries a method is composed from, and the typed hyper-parameters they take.

A slot entry's `obj` is a factory; it is added with `paper` and `params` ({name: Param}, each spec
declared right there, next to the entry, with its default). Its meta then holds `params`
({name: default}) and `specs` ({name: Param}). A preset picks one entry per slot (the slot's name is
itself a parameter, e.g. `loss="focal"`). Parameter names form one namespace across slots (they are
CLI flags): declaring a name twice with a different meaning is an error at import time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..errors import ConfigError
from ..registry import Registry


@dataclass(frozen=True)
class Param:
    """A method hyper-parameter: its kind (float|int|str), whether None is allowed, a range check,
    and its default (the value an entry uses unless a preset or the user sets another)."""

    kind: str
    help: str
    check: Callable[[object], bool] = lambda v: True
    rule: str = ""
    optional: bool = False
    default: object = None

    def with_default(self, default) -> "Param":
        """The same parameter with another default (for an entry whose paper uses another value)."""
        return replace(self, default=default)


@dataclass(frozen=True)
class Needs:
    """A slot entry's rule about another slot of the same preset, kept in the entry's meta
    (`needs=(Needs(...), ...)`) as timm keeps a model's facts in its config: that slot's choice must
    be one of `allowed` (when given) and none of `refused`. The error reads "<slot> <name> <why>";
    `{choice}` in `why` is the other slot's offending choice."""

    slot: str
    allowed: tuple = ()
    refused: tuple = ()
    why: str = ""

    def broken_by(self, choice: str) -> bool:
        return bool(self.allowed) and choice not in self.allowed or choice in self.refused


BALANCING_HEADS = ("linear", "cosine", "cosine_learned", "normed")
"""Classifier heads with one weight row per class (what cRT/LWS/τ-norm re-balance and BCL's
prototypes are made of)."""


def number(default, help: str, check=lambda v: True, rule: str = "", optional: bool = False) -> Param:
    """A float parameter, e.g. `number(1.0, "focal exponent γ", lambda v: v >= 0, "≥ 0")`."""
    return Param("float", help, check, rule, optional, default)


def integer(default, help: str, check=lambda v: True, rule: str = "", optional: bool = False) -> Param:
    """An int parameter (None allowed only when `optional`)."""
    return Param("int", help, check, rule, optional, default)


def text(default: str, help: str) -> Param:
    """A string parameter (a name, a path)."""
    return Param("str", help, default=default)


PARAMS: dict[str, Param] = {}
"""Every method hyper-parameter (name → spec), gathered from the slot entries that declare them."""


def declare(name: str, spec: Param, owner: str) -> None:
    """Add `name` to PARAMS; the same name may only be declared again with the same meaning."""
    if not isinstance(spec, Param):
        raise TypeError(f"{owner}: parameter {name!r} needs a Param spec (kind, help, check), got {spec!r}")
    known = PARAMS.get(name)
    if known is not None and replace(known, default=None) != replace(spec, default=None):
        raise ValueError(f"{owner}: parameter {name!r} is already declared with another meaning "
                         f"({known.help!r}); give this one a distinct name")
    PARAMS.setdefault(name, spec)


def reject_unknown(owner: str, given, accepted) -> None:
    """ConfigError naming the parameters in `given` that `owner` does not take, and what it takes."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "none"
        raise ConfigError(f"{owner} has no parameter(s) {', '.join(unknown)}; it takes: {takes}")


class SlotRegistry(Registry):
    """A slot's registry: entries declare their hyper-parameters as {name: Param}."""

    def add(self, name: str, obj, description: str, params: dict | None = None, **meta) -> None:
        specs = dict(params or {})
        for pname, spec in specs.items():
            declare(pname, spec, f"{self.kind} {name!r}")
        super().add(name, obj, description, params={k: v.default for k, v in specs.items()},
                    specs=specs, **meta)


PRESETS = Registry("method")
"""preset name → factory(params, counts, epochs, device) -> Method; meta: paper, family, params."""
SAMPLERS = SlotRegistry("sampler")
"""name → factory(counts, epochs, **params) with `.order(labels, epoch, gen)`."""
LOSSES = SlotRegistry("loss")
"""name → factory(class_counts, **params) -> ClassLoss (forward(logits, targets) → mean loss)."""
CLASSIFIERS = SlotRegistry("classifier")
"""name → factory(feat_dim, num_classes, **params) -> nn.Module head."""
AUGMENTATIONS = SlotRegistry("mixing")
"""name → factory(counts, **params) -> mixer(x, y, gen, rng) -> (x̃, y_a, y_b, λ_y), or None (this batch
unmixed); the factory returns None for no mixing at all. meta `needs_images=True`: images only."""
REWEIGHTING = SlotRegistry("re-weighting schedule")
"""name → factory(counts, epochs, **params) with `.weight(epoch, base)` (None = the loss's own)."""
REGULARIZERS = SlotRegistry("regularizer")
"""name → factory(feat_dim, num_classes, device, **params) -> feature regulariser or None."""
POSTHOC = SlotRegistry("post-hoc adjustment")
"""name → factory(counts, **params) -> fn(logits) -> logits, applied at evaluation."""
STAGE2 = SlotRegistry("second stage")
"""name → function(method, ctx: MethodContext, **params) run after the main loop (decoupling)."""

CONTRASTIVE = SlotRegistry("contrastive term")
"""name → factory(feat_dim, num_classes, counts, device, **params) -> ContrastTerm (a module with
its projection head; `attach(ctx)`, `training_loss(method, model, x, y)`) or None."""
PRETEXT = SlotRegistry("self-supervised stage")
"""name → factory(**params) -> a pretext task run before the main loop (labels unused) or None."""

SLOTS: dict[str, Registry] = {
    "sampler": SAMPLERS, "loss": LOSSES, "classifier": CLASSIFIERS, "mixing": AUGMENTATIONS,
    "reweight": REWEIGHTING, "regularizer": REGULARIZERS, "posthoc": POSTHOC, "stage2": STAGE2,
    "contrast": CONTRASTIVE, "pretext": PRETEXT,
}
"""slot parameter name → registry of its choices."""

for _slot, _registry in SLOTS.items():
    declare(_slot, Param("str", f"{_slot} slot: one of the {_registry.kind} names"), "slots")


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
