"""Short, readable names for runs: the method plus whatever else differs between the runs shown."""
from __future__ import annotations

from ltcore import Config
from ltcore.data.imbalance import real_ratio

_SHOWN = {"dataset": "{}", "ratio": None, "profile": "{}", "model": "{}", "epochs": "{} ep",
          "lr": "lr {:g}", "batch_size": "bs {}", "seed": "seed {}"}


def ratio_text(profile: str, ratio: float, real: float | None = None) -> str:
    """ρ as a run is labelled: the asked ratio, except for profile `none` (the data's own
    distribution, where the asked ρ means nothing) the real one, or "own ρ" before it is known."""
    if profile != "none":
        return f"ρ{ratio:g}"
    return f"ρ{real:.3g} (own)" if real else "own ρ"


def ratio_value(profile: str, ratio: float, real: float | None = None) -> float | None:
    """The ρ of a table's ratio column: the asked one, or for profile `none` the real one."""
    return ratio if profile != "none" else (round(real, 3) if real else None)


def own_ratio(result) -> float | None:
    """The real ratio of a result (or seed summary) of profile `none`, from its training counts;
    None for other profiles, whose asked ρ labels them."""
    if result.config.profile != "none" or not result.class_counts:
        return None
    return real_ratio(result.class_counts)


def run_labels(configs: list[Config], real: list[float | None] | None = None) -> list[str]:
    """One label per config, e.g. "ldam_drw · seed 1" (changed method parameters always shown);
    identical configs get their run id appended. `real`: each run's real ratio (what a `none`
    profile is labelled with)."""
    real = real or [None] * len(configs)
    shown = [{k: ratio_text(c.profile, c.ratio, r) if k == "ratio" else _SHOWN[k].format(getattr(c, k))
              for k in _SHOWN} for c, r in zip(configs, real)]
    differing = [k for k in _SHOWN if len({s[k] for s in shown}) > 1]
    labels = []
    for c, s in zip(configs, shown):
        parts = [c.method] + ([_short(c.method_params)] if c.method_params else [])
        labels.append(" · ".join(parts + [s[k] for k in differing]))
    if len(set(labels)) < len(labels):
        labels = [f"{label} · {c.run_id[:6]}" for label, c in zip(labels, configs)]
    return labels


def _short(params: tuple) -> str:
    return ",".join(f"{k}={v}" for k, v in params)
