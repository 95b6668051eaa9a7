"""Store look-ups behind the Compare page: relative-accuracy references and decision-region grids."""
from __future__ import annotations

import streamlit as st

from ltcore import Config, LTError
from ltcore.metrics import reference_configs, relative_accuracy
from ltcore.inference import decision_grid as core_decision_grid
from ltcore.metrics.relative import REFERENCES

from app.ui import jobs


def relative_accuracies(run_ids, results) -> tuple[dict, list[Config]]:
    """Relative accuracy (Zhang et al. TPAMI'23 §4.1) of each run whose balanced reference runs are
    in the store, and the reference configs still missing (to train on request)."""
    values, missing = {}, []
    for rid, r in zip(run_ids, results):
        if r.config.balanced_total or r.metrics.get("balanced_acc") is None:
            continue
        refs = dict(zip(REFERENCES, reference_configs(r.config)))
        found = {}
        for name, cfg in refs.items():
            ref_id = jobs.done_run_for(cfg)
            ref = jobs.result(ref_id) if ref_id else None
            if ref is not None and ref.metrics.get("balanced_acc") is not None:
                found[name] = ref.balanced_acc
            elif cfg not in missing:
                missing.append(cfg)
        if found:
            values[rid] = relative_accuracy(r.balanced_acc, found.get("plain_ce_balanced"),
                                            found.get("method_balanced"))
    return values, missing


@st.cache_data(show_spinner="Computing decision regions…", max_entries=32)
def decision_grid(data_dir: str, run_id: str) -> dict | None:
    """The run's predicted class over the plane (None when it has no stored weights)."""
    try:
        state = jobs.store().load_checkpoint(run_id)
        return core_decision_grid(jobs.store().config(run_id), state)
    except (LTError, RuntimeError):  # no weights, or weights of a head the plain model cannot load
        return None
