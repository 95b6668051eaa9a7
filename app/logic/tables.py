"""Tables of runs for display and download (numbers straight from the stored results)."""
from __future__ import annotations

import pandas as pd

from app.logic import two_stage as stages

GROUPS = ("many", "medium", "few")


def method_notes(extras: dict) -> str:
    """What a method learned that the accuracy columns do not show: SADE's test-time expert weights
    (or that its experts were averaged without test-time aggregation),
    LWS classes whose learned scale is negative (a stage-1 model that under-fits them)."""
    notes = []
    if extras.get("sade_weights"):
        weights = " / ".join(f"{w:.2f}" for w in extras["sade_weights"])
        notes.append(f"expert weights {weights} (plain / balanced / inverse; test-time aggregation)")
    elif (extras.get("method_slots") or {}).get("classifier") == "experts":
        notes.append("SADE experts averaged (no test-time aggregation)")
    if extras.get("lws_negative"):
        classes = ", ".join(str(k) for k in extras["lws_negative"])
        notes.append(f"LWS scale < 0 for class {classes}: stage 1 under-fits it (own-class logits mostly < 0)")
    return "; ".join(notes)


def summary_table(run_ids, results, labels, relative: dict | None = None) -> pd.DataFrame:
    """One row per run: overall, balanced, many/medium/few, relative accuracy, ECE, macro-F1, wall time,
    method notes."""
    relative = relative or {}
    rows = []
    for rid, r, label in zip(run_ids, results, labels):
        rel = relative.get(rid) or {}
        rows.append({
            "run": label, "method": r.config.method, "dataset": r.config.dataset, "ratio": r.config.ratio,
            "seed": r.config.seed, "epochs": r.epochs_completed, "status": r.status,
            "overall_acc": r.metrics.get("overall_acc"), "balanced_acc": r.metrics.get("balanced_acc"),
            **{f"{g}_acc": (r.metrics.get("shot_acc") or {}).get(g) for g in GROUPS},
            "relative_acc": rel.get("value"), "ece": r.metrics.get("ece"),
            "macro_f1": r.metrics.get("macro_f1"), "wall_seconds": r.wall_seconds,
            "stages": stages.describe(r) or "", "notes": method_notes(r.extras or {}), "run_id": rid,
        })
    return pd.DataFrame(rows)


def crest_generations(run_ids, results, labels) -> pd.DataFrame:
    """CReST runs' self-training record: one row per run and generation with the pseudo-labels per
    class it trained on beside the labelled set (none in generation 1), the unlabelled pool's size
    and source, and the balanced validation accuracy of that generation's model; empty when no run
    is a CReST run."""
    rows = []
    for rid, r, label in zip(run_ids, results, labels):
        extras = r.extras or {}
        gens, pool = extras.get("crest_generations"), extras.get("crest_pool") or {}
        if not gens:
            continue
        names = list(r.class_names or range(len(gens[0]["pseudo_labels"])))
        for g in gens:
            rows.append({"run": label, "generation": g["generation"],
                         "pool": f"{pool.get('size', '?')} {pool.get('source', '')}".strip(),
                         "val_balanced_acc": g.get("val_balanced_acc"),
                         "pseudo_labels": sum(g["pseudo_labels"]),
                         **{f"class {n}": v for n, v in zip(names, g["pseudo_labels"])}, "run_id": rid})
    return pd.DataFrame(rows)


PERCENT_COLUMNS = ["overall_acc", "balanced_acc", *(f"{g}_acc" for g in GROUPS), "relative_acc", "macro_f1"]
