"""Short, readable names for runs: the method plus whatever else differs between the runs shown."""
from __future__ import annotations

from ltcore import Config

_SHOWN = {"dataset": "{}", "ratio": "ρ{:g}", "profile": "{}", "model": "{}", "epochs": "{} ep",
          "lr": "lr {:g}", "batch_size": "bs {}", "seed": "seed {}"}


def run_labels(configs: list[Config]) -> list[str]:
    """One label per config, e.g. "ldam_drw · seed 1" (changed method parameters always shown);
    identical configs get their run id appended."""
    differing = [k for k in _SHOWN if len({repr(getattr(c, k)) for c in configs}) > 1]
    labels = []
    for c in configs:
        parts = [c.method] + ([_short(c.method_params)] if c.method_params else [])
        parts += [_SHOWN[k].format(getattr(c, k)) for k in differing]
        labels.append(" · ".join(parts))
    if len(set(labels)) < len(labels):
        labels = [f"{label} · {c.run_id[:6]}" for label, c in zip(labels, configs)]
    return labels


def _short(params: tuple) -> str:
    return ",".join(f"{k}={v}" for k, v in params)
