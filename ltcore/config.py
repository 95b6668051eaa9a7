"""The one run configuration: a frozen dataclass of primitives whose hash is the run id."""
from __future__ import annotations

import hashlib
import json
import math
import numbers
from dataclasses import asdict, dataclass, fields

from .errors import ConfigError
from .methods import check_config

SCHEDULES = {
    "multistep": "lr × gamma at each milestone epoch (LDAM-DRW: ×0.01 at 160 and 180)",
    "cosine": "cosine decay to 0 after warm-up (Loshchilov & Hutter 2017)",
    "constant": "constant lr after warm-up",
}
DEVICES = ("auto", "cpu", "cuda", "mps")
HASH_IF_CHANGED = {"eval_every": 1, "pretrained": False}
"""field → default: such a field enters the run id only when it differs from this default."""
MAX_SEED = 2**32 - 1  # numpy's seed range; torch takes it too


@dataclass(frozen=True)
class Config:
    """Everything that determines a run. Unknown keys are rejected by `from_dict`."""

    dataset: str = "digits"
    data_path: str = ""              # image folder for `imagefolder`; empty otherwise
    profile: str = "exp"
    ratio: float = 50.0
    minority_fraction: float = 0.5
    balanced_total: bool = False     # spread the profile's total equally (relative-accuracy reference)
    seed: int = 0
    model: str = "auto"              # "auto" = the data set's default model
    method: str = "ce"               # a preset name from ltcore.methods.PRESETS
    method_params: tuple = ()        # ((name, value), ...) overrides of the preset, kept sorted
    epochs: int = 30
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 2e-4
    warmup_epochs: int = 0
    schedule: str = "cosine"
    milestones: tuple = ()           # epochs for "multistep"
    lr_gamma: float = 0.1
    augment: str = "auto"            # auto|none|crop|crop_flip
    device: str = "auto"
    precision: str = "auto"          # auto (bf16 where the hardware has it natively) | fp32 | bf16
    compile: bool = False
    nc_every: int = 0                # neural-collapse metrics every N epochs (0 = at the end only)
    snapshot_epochs: tuple = ()      # epochs whose feature snapshots are kept (final always)
    eval_every: int = 1              # test-set evaluation every N epochs (the last epoch always)
    pretrained: bool = False         # start the backbone from ImageNet weights (resnet18, offline cache)

    def __post_init__(self):
        params = self.method_params
        if isinstance(params, dict):
            params = params.items()
        try:
            pairs = [(str(k), v) for k, v in params]
        except (TypeError, ValueError):
            raise ConfigError("method_params must be {name: value} pairs, got "
                              f"{_short(self.method_params)}") from None
        for name, value in pairs:
            _check_param_value(name, value)
        object.__setattr__(self, "method_params", tuple(sorted(pairs, key=lambda p: p[0])))
        for f in fields(self):
            if f.name != "method_params":
                object.__setattr__(self, f.name, _typed(f.name, f.default, getattr(self, f.name)))
        object.__setattr__(self, "snapshot_epochs", tuple(sorted(self.snapshot_epochs)))
        object.__setattr__(self, "ratio", float(self.ratio))
        self._check_ranges()

    def _check_ranges(self):
        checks = [
            (self.ratio >= 1, f"imbalance ratio must be ≥ 1, got {self.ratio:g}"),
            (0 <= self.seed <= MAX_SEED, f"seed must be an integer in [0, {MAX_SEED}], got {self.seed}"),
            (0 <= self.minority_fraction <= 1, f"minority fraction must lie in [0, 1], got {self.minority_fraction}"),
            (self.epochs >= 1, f"epochs must be ≥ 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be ≥ 1, got {self.batch_size}"),
            (self.lr > 0, f"learning rate must be > 0, got {self.lr}"),
            (self.momentum >= 0 and self.weight_decay >= 0, "momentum and weight decay must be ≥ 0"),
            (self.lr_gamma > 0, f"lr gamma (the multistep factor) must be > 0, got {self.lr_gamma:g}"),
            (all(m >= 0 for m in self.milestones), f"milestones must be epochs ≥ 0, got {list(self.milestones)}"),
            (all(m >= 1 for m in self.snapshot_epochs),
             f"snapshot epochs must be ≥ 1, got {list(self.snapshot_epochs)}"),
            (0 <= self.warmup_epochs < self.epochs or self.warmup_epochs == 0,
             f"warm-up epochs must be in [0, epochs), got {self.warmup_epochs}"),
            (self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}; choose one of: {', '.join(SCHEDULES)}"),
            (self.device in DEVICES, f"unknown device {self.device!r}; choose one of: {', '.join(DEVICES)}"),
            (self.augment in ("auto", "none", "crop", "crop_flip"),
             f"unknown augmentation {self.augment!r}; choose auto, none, crop or crop_flip"),
            (self.precision in ("auto", "fp32", "bf16"),
             f"unknown precision {self.precision!r}; choose auto, fp32 or bf16"),
            (self.nc_every >= 0, "nc_every must be ≥ 0"),
            (self.eval_every >= 1, f"eval_every must be ≥ 1, got {self.eval_every}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @classmethod
    def from_dict(cls, data: dict) -> "Config":
        """Build from a plain dict (JSON, UI); unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        values = dict(data)
        if isinstance(values.get("method_params"), list):
            values["method_params"] = tuple(tuple(p) for p in values["method_params"])
        return cls(**values)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["method_params"] = [list(p) for p in self.method_params]
        d["milestones"] = list(self.milestones)
        d["snapshot_epochs"] = list(self.snapshot_epochs)
        return d

    @property
    def params(self) -> dict:
        return dict(self.method_params)

    @property
    def run_id(self) -> str:
        """Stable 12-hex-digit hash of every field (same config → same id, across processes).

        Fields added after runs were first stored (HASH_IF_CHANGED) enter the hash only when they
        differ from their default, so the ids of earlier runs stay valid."""
        d = {k: v for k, v in self.to_dict().items() if HASH_IF_CHANGED.get(k, object()) != v}
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def replace(self, **changes) -> "Config":
        return Config.from_dict({**self.to_dict(), **changes})

    def validate(self) -> "Config":
        """Check names against the registries (data set, model, method), the model against the data
        and every user path against the shared server's roots; returns self."""
        check_config(self)
        return self


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _typed(name: str, default, value):
    """`value` checked against the type of the field's default (ints may come as integral floats);
    a wrong type or a non-finite number is a ConfigError that names the field."""
    label = name.replace("_", " ")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {_short(value)}")
        return value
    if isinstance(default, int):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if math.isfinite(value) and float(value) == int(value):
                return int(value)
        raise ConfigError(f"{label} must be an integer, got {_short(value)}")
    if isinstance(default, float):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if math.isfinite(value):
                return value
            raise ConfigError(f"{label} must be a finite number, got {value}")
        raise ConfigError(f"{label} must be a number, got {_short(value)}")
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a text, got {_short(value)}")
        if "\x00" in value:
            raise ConfigError(f"{label} must not contain a NUL character")
        return value
    if isinstance(default, tuple):
        try:
            items = list(value)
        except TypeError:
            raise ConfigError(f"{label} must be a list of epochs, got {_short(value)}") from None
        return tuple(_typed(name, 0, v) for v in items)
    return value


def _check_param_value(name: str, value) -> None:
    """Method parameters are plain JSON values; numbers must be finite."""
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and "\x00" in value:
            raise ConfigError(f"method parameter {name} must not contain a NUL character")
        return
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ConfigError(f"method parameter {name} must be a finite number, got {value}")
        return
    raise ConfigError(f"method parameter {name} must be a number, a name or none, got {_short(value)}")
