"""Relative accuracy (Zhang et al. TPAMI'23 survey "Deep Long-Tailed Learning", §4.1):
A_r = A_t / max(A_v, A_b), A_v = plain CE and A_b = the method, both trained on a balanced subset
of the same total size, A_t = the method on the long-tailed set. Training the references:
ltcore.sweep.relative_accuracy_for."""
from __future__ import annotations

from ..config import Config
from ..errors import LTError

REFERENCES = ("plain_ce_balanced", "method_balanced")


def relative_accuracy(a_t: float, a_v: float | None = None, a_b: float | None = None) -> dict:
    """A_t / max(A_v, A_b) over the references that are given; says which ones were used."""
    given = {name: float(a) for name, a in zip(REFERENCES, (a_v, a_b)) if a is not None}
    if not given:
        raise LTError("relative accuracy needs at least one balanced reference accuracy (A_v or A_b)")
    best = max(given, key=given.get)
    a_u = given[best]
    return {"value": float(a_t) / a_u if a_u > 0 else None, "a_t": float(a_t), "a_u": a_u,
            "upper_reference": best, "references": given, "used": sorted(given)}


def reference_configs(config: Config) -> tuple[Config, Config]:
    """(plain CE, the same method), both on a balanced subset of the same total size."""
    plain = config.replace(balanced_total=True, method="ce", method_params=[])
    return plain, config.replace(balanced_total=True)


def reference_accuracy(ref, metric: str) -> float:
    """A reference given as a number, a RunResult or a metrics dict."""
    if isinstance(ref, (int, float)):
        return float(ref)
    metrics = getattr(ref, "metrics", ref)
    if metrics.get(metric) is None:
        raise LTError(f"the reference run has no {metric!r}; was it trained to the end?")
    return float(metrics[metric])
