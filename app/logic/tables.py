"""Tables of runs for display and download (numbers straight from the stored results)."""
from __future__ import annotations

import inspect

import pandas as pd

from ltcore.metrics import shot_groups

from app.logic import two_stage as stages
from app.logic.labels import own_ratio, ratio_value

GROUPS = ("many", "medium", "few")
FEW_BELOW = inspect.signature(shot_groups).parameters["few"].default
NO_FEW = f"no class has < {FEW_BELOW} training samples at this ρ"
"""What an empty few-shot group means (the thresholds rule, Liu et al. 2019): said instead of a blank."""


def spell_out_few(df: pd.DataFrame, column: str = "few_acc",
                  done: pd.Series | None = None) -> tuple[pd.DataFrame, bool]:
    """A copy of `df` for display whose few-shot column says NO_FEW where a finished run has no
    few-shot class (percent text elsewhere, as the number columns show it); `done` marks the rows
    that finished (default: all). Returns (frame, whether the column became text)."""
    if column not in df or not df[column].isna().any():
        return df, False
    done = pd.Series(True, index=df.index) if done is None else done
    out = df.copy()
    out[column] = [f"{v:.2%}" if pd.notna(v) else NO_FEW if finished else None
                   for v, finished in zip(df[column], done)]
    return out, True


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
            "run": label, "method": r.config.method, "dataset": r.config.dataset,
            "ratio": ratio_value(r.config.profile, r.config.ratio, own_ratio(r)),
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
