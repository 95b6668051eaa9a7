"""Two-stage runs (decoupling: cRT, LWS, τ-norm, NCM; Kang et al. ICLR'20) described as what they
are — stage 1 trained or reused from an earlier run's model, with its epochs and time, then
stage 2 — from the `stages` record the core keeps in a result's extras."""
from __future__ import annotations


def _seconds(value) -> str:
    return "time not recorded" if value is None else f"{value:.1f} s"


def stage_parts(result) -> list[str] | None:
    """["stage 1: 60 epochs reused from run 1a2b3c (4.1 s then)", "stage 2 crt: 10 epochs, 0.3 s"],
    or None for a one-stage run."""
    stages = (getattr(result, "extras", None) or {}).get("stages")
    if not stages:
        return None
    first, second = stages[0], stages[1]
    if first.get("reused"):
        where = f" from run {first['from_run'][:6]}" if first.get("from_run") else ""
        if first.get("epochs"):
            one = f"stage 1: {first['epochs']} epochs reused{where} ({_seconds(first.get('seconds'))} when trained)"
        else:
            one = f"stage 1: reused{where} (its record was not kept)"
    else:
        one = f"stage 1: {first.get('epochs', 0)} epochs trained, {_seconds(first.get('seconds'))}"
    epochs = f"{second['epochs']} epochs" if second.get("epochs") else "no training"
    two = f"stage 2 {second.get('what')}: {epochs}, {_seconds(second.get('seconds'))}"
    return [one, two]


def describe(result) -> str | None:
    """One line for progress rows and tables; None for a one-stage run."""
    parts = stage_parts(result)
    return " · ".join(parts) if parts else None


def is_two_stage(config) -> bool:
    """Whether a config's method has a second stage (from the core's preset, without training)."""
    from ltcore.methods import PRESETS

    if config.method not in PRESETS:
        return False
    params = {**(PRESETS.get(config.method).meta.get("params") or {}), **dict(config.method_params)}
    return params.get("stage2", "none") != "none"


def nc_missing_reason(result) -> str:
    """Why a run has no neural-collapse curve (for the note under the NC chart)."""
    stages = (result.extras or {}).get("stages")
    if stages and stages[0].get("reused"):
        return "its stage 1 was reused from a model saved without measurements along training"
    return "it measured neural collapse only at the end"
