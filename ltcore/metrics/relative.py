"""Relative accuracy (Zhang et al. TPAMI'23 survey "Deep Long-Tailed Learning", §4.1):
A_r = A_t / max(A_v, A_b), A_v = plain CE and A_b = the method, both trained on a balanced subset
of the same total size, A_t = the method on the long-tailed set."""
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


def _accuracy(ref, metric: str) -> float:
    """A reference given as a number, a RunResult or a metrics dict."""
    if isinstance(ref, (int, float)):
        return float(ref)
    metrics = getattr(ref, "metrics", ref)
    if metrics.get(metric) is None:
        raise LTError(f"the reference run has no {metric!r}; was it trained to the end?")
    return float(metrics[metric])


def relative_accuracy_for(result, references: dict | None = None, metric: str = "balanced_acc",
                          train_fn=None, **train_kwargs) -> dict:
    """Relative accuracy of a long-tailed `result`; references missing from `references`
    ({name: RunResult | metrics dict | float}) are trained with `train_fn` (ltcore.train by default)."""
    if result.config.balanced_total:
        raise LTError("relative accuracy is measured for a long-tailed run; this run is already balanced")
    refs = dict(references or {})
    plain_cfg, method_cfg = reference_configs(result.config)
    wanted = {"plain_ce_balanced": plain_cfg, "method_balanced": method_cfg}
    if train_fn is None:
        from ..train import train as train_fn                        # late import: train imports metrics
    by_id = {cfg.run_id: refs[name] for name, cfg in wanted.items() if name in refs}
    for name, cfg in wanted.items():
        if name not in refs:                                          # CE method: one run serves both
            if cfg.run_id not in by_id:
                by_id[cfg.run_id] = train_fn(cfg, **train_kwargs)
            refs[name] = by_id[cfg.run_id]
    out = relative_accuracy(_accuracy(result.metrics, metric), _accuracy(refs["plain_ce_balanced"], metric),
                            _accuracy(refs["method_balanced"], metric))
    out.update({"metric": metric, "reference_run_ids": {n: c.run_id for n, c in wanted.items()}})
    return out
