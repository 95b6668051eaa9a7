"""Short, readable names for runs: the method plus whatever else differs between the runs shown."""
from __future__ import annotations

from ltcore import Config

_SHOWN = {"dataset": "{}", "ratio": "ρ{:g}", "profile": "{}", "model": "{}", "epochs": "{} ep",
          "lr": "lr {:g}", "batch_size": "bs {}", "seed": "seed {}", "method_params": "{}"}


def run_labels(configs: list[Config]) -> list[str]:
    """One label per config, e.g. "ldam_drw · seed 1"; identical configs get their run id appended."""
    differing = [k for k in _SHOWN if len({repr(getattr(c, k)) for c in configs}) > 1]
    labels = []
    for c in configs:
        parts = [c.method] + [_SHOWN[k].format(_short(getattr(c, k))) for k in differing]
        labels.append(" · ".join(parts))
    if len(set(labels)) < len(labels):
        labels = [f"{label} · {c.run_id[:6]}" for label, c in zip(labels, configs)]
    return labels


def describe(config: Config) -> str:
    """A one-line summary of a config for lists: method, data, ratio, epochs, seed, id."""
    params = f" {_short(config.method_params)}" if config.method_params else ""
    return (f"{config.method}{params} · {config.dataset} ρ{config.ratio:g} · {config.epochs} ep · "
            f"seed {config.seed} · {config.run_id}")


def _short(value):
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return ",".join(f"{k}={v}" for k, v in value)
    return value
