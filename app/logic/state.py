"""The view's state: one set of keys shared by widgets, `st.session_state` and the URL query
string, so a shared link reproduces the view. Pure functions; no streamlit import."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from ltcore import Config


@dataclass(frozen=True)
class Field:
    """One mirrored value: how to read it from a URL string and how to write it back."""

    default: Any
    parse: Callable[[str], Any]
    dump: Callable[[Any], str] = str


def _names(text: str) -> list[str]:
    return [part for part in (p.strip() for p in text.split(",")) if part]


def _dump_names(values: list[str]) -> str:
    return ",".join(values)


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {text!r}")


def _dump_bool(value: bool) -> str:
    return "1" if value else "0"


def _number(text: str) -> float:
    """A finite float (a link's `nan` or `inf` is not a value any widget can show)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text}")
    return value


def _params(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError("params must be a JSON object {method: {name: value}}")
    return value


def _dump_params(value: dict) -> str:
    return json.dumps({m: p for m, p in sorted(value.items()) if p}, sort_keys=True, separators=(",", ":"))


_DEFAULT = Config()
UI_EPOCHS = 20  # fewer than the core's recipe default so a first run takes seconds on a CPU
UI_RATIO = 62.0
"""The first view's ρ: the default data (digits, whole images per class: largest 124) cannot give
the core's ρ = 50 — near it only 41.3× or 62× — so a newcomer's first page would open on a warning."""

FIELDS: dict[str, Field] = {
    "dataset": Field(_DEFAULT.dataset, str),
    "data_path": Field("", str),
    "profile": Field(_DEFAULT.profile, str),
    "ratio": Field(UI_RATIO, _number, lambda v: f"{v:g}"),
    "mu": Field(_DEFAULT.minority_fraction, _number, lambda v: f"{v:g}"),
    "seed": Field(_DEFAULT.seed, int),
    "methods": Field(["ce"], _names, _dump_names),
    "model": Field(_DEFAULT.model, str),
    "epochs": Field(UI_EPOCHS, int),
    "lr": Field(_DEFAULT.lr, _number, lambda v: f"{v:g}"),
    "batch_size": Field(_DEFAULT.batch_size, int),
    "seeds": Field(1, int),
    "params": Field({}, _params, _dump_params),
    "runs": Field([], _names, _dump_names),
    "baseline": Field("", str),
    "lesson": Field(1, int),
    "data_log": Field(False, _bool, _dump_bool),
    "compare_tab": Field("Accuracy", str),
    "seed_groups": Field(True, _bool, _dump_bool),
    "curves_metric": Field("balanced_acc", str),
    "curves_smooth": Field(0.0, _number, lambda v: f"{v:g}"),
    "curves_log": Field(False, _bool, _dump_bool),
    "geometry_tab": Field("Over training", str),
    "geometry_run": Field("", str),
    "geometry_dim": Field(2, int),
    "geometry_nc": Field("NC1", str),
    "compare_whatif_la_tau": Field(0.0, _number, lambda v: f"{v:g}"),    # the what-if tab's two τs
    "compare_whatif_norm_tau": Field(0.0, _number, lambda v: f"{v:g}"),
    # the Sweep page's grid (methods × ratios × seeds, optional parameter search)
    "sw_methods": Field(["ce", "balanced_softmax"], _names, _dump_names),
    "sw_ratios": Field("10,50,100", str),
    "sw_seeds": Field(3, int),
    "sw_param": Field("", str),
    "sw_samples": Field(4, int),
    "sw_backend": Field("local", str),
    "teacher": Field(False, _bool, _dump_bool),
}
"""Keys mirrored in the URL (also the `st.session_state` keys of their widgets)."""


def defaults() -> dict:
    """A fresh copy of every default value."""
    return {k: (list(f.default) if isinstance(f.default, list) else
                dict(f.default) if isinstance(f.default, dict) else f.default) for k, f in FIELDS.items()}


def parse_query(query: dict[str, str]) -> tuple[dict, list[str]]:
    """Values found in a query string and one message per value that could not be read."""
    values, problems = {}, []
    for key, raw in query.items():
        field = FIELDS.get(key)
        if field is None:
            continue
        raw = raw[-1] if isinstance(raw, list) else raw
        try:
            values[key] = field.parse(raw)
        except (ValueError, TypeError, RecursionError):
            problems.append(f"ignored '{key}={raw}' from the link: not a valid {key}")
    return values, problems


def to_query(values: dict) -> dict[str, str]:
    """The query string for a state: only values that differ from their defaults."""
    out = {}
    for key, field in FIELDS.items():
        if key in values and values[key] != field.default and values[key] not in ("", [], {}):
            out[key] = field.dump(values[key])
    return out


def geometry_schedule(epochs: int, measurements: int = 20, snapshots: int = 8) -> dict:
    """Config fields that make a run record neural-collapse metrics about `measurements` times and
    keep about `snapshots` feature snapshots (first epoch, evenly spaced, last) for the Geometry page."""
    every = max(epochs // measurements, 1)
    marks = {1, epochs} | {round(1 + i * (epochs - 1) / max(snapshots - 1, 1)) for i in range(snapshots)}
    return {"nc_every": every, "snapshot_epochs": tuple(sorted(m for m in marks if 1 <= m <= epochs))}


def make_config(values: dict, method: str, seed: int | None = None) -> Config:
    """The core `Config` for one method (and seed) of the current view, recording geometry along
    the way; raises ConfigError."""
    data_path = values.get("data_path", "") if values["dataset"] == "imagefolder" else ""
    mu = values["mu"] if values["profile"] == "step" else _DEFAULT.minority_fraction  # only step uses μ
    return Config(**geometry_schedule(int(values["epochs"])), dataset=values["dataset"], data_path=data_path,
                  profile=values["profile"], ratio=values["ratio"], minority_fraction=mu,
                  seed=values["seed"] if seed is None else seed, model=values["model"], method=method,
                  method_params=tuple(values.get("params", {}).get(method, {}).items()),
                  epochs=values["epochs"], batch_size=values["batch_size"], lr=values["lr"]).validate()


def make_configs(values: dict) -> list[Config]:
    """Every configuration the Train button submits: methods × seeds (seed, seed+1, ...)."""
    seeds = [values["seed"] + i for i in range(max(int(values["seeds"]), 1))]
    return [make_config(values, m, s) for m in values["methods"] for s in seeds]
