"""Relative accuracy of a long-tailed run, training the balanced reference runs it needs (Zhang et al.
2023, §4.1): the sweep-side companion of ltcore.metrics.relative, which holds the maths."""
from __future__ import annotations

from ..errors import LTError
from ..metrics.relative import reference_accuracy, reference_configs, relative_accuracy
from ..engine.trainer import train


def relative_accuracy_for(result, references: dict | None = None, metric: str = "balanced_acc",
                          train_fn=None, **train_kwargs) -> dict:
    """Relative accuracy of a long-tailed `result`; references missing from `references`
    ({name: RunResult | metrics dict | float}) are trained with `train_fn` (ltcore.train.train by default)."""
    if result.config.balanced_total:
        raise LTError("relative accuracy is measured for a long-tailed run; this run is already balanced")
    refs = dict(references or {})
    plain_cfg, method_cfg = reference_configs(result.config)
    wanted = {"plain_ce_balanced": plain_cfg, "method_balanced": method_cfg}
    train_fn = train_fn or train
    by_id = {cfg.run_id: refs[name] for name, cfg in wanted.items() if name in refs}
    for name, cfg in wanted.items():
        if name not in refs:                                          # CE method: one run serves both
            if cfg.run_id not in by_id:
                by_id[cfg.run_id] = train_fn(cfg, **train_kwargs)
            refs[name] = by_id[cfg.run_id]
    out = relative_accuracy(reference_accuracy(result.metrics, metric),
                            reference_accuracy(refs["plain_ce_balanced"], metric),
                            reference_accuracy(refs["method_balanced"], metric))
    out.update({"metric": metric, "reference_run_ids": {n: c.run_id for n, c in wanted.items()}})
    return out
