"""Seeds as error bars on the Compare page: runs that differ only by seed become one entry (mean ±
std over the seeds, `ltcore.metrics.seeds`), or, with the switch off, stay single runs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ltcore.metrics.seeds import SeedSummary, group_by_seed, summarise_seeds

from app.logic import memo as shared
from app.logic.labels import run_labels
from app.logic.tables import GROUPS

_SUMMARIES = shared.Memo(max_entries=128)
HEADLINE = ("overall_acc", "balanced_acc", *(f"{g}_acc" for g in GROUPS), "macro_f1", "ece")


def summaries(ids: list[str], runs: list) -> tuple[list[str], list, list[list[str]]]:
    """(the first run id of each seed group, a SeedSummary per group, the run ids of each group);
    shared by every session for the same result objects."""
    key = (tuple(ids), tuple(id(r) for r in runs))

    def build():
        groups = group_by_seed([r.config for r in runs])
        made = [summarise_seeds([runs[i] for i in g], [ids[i] for i in g]) for g in groups]
        return tuple(runs), [ids[g[0]] for g in groups], made, [[ids[i] for i in g] for g in groups]

    _, heads, made, members = _SUMMARIES.get(key, build)
    return heads, made, members


def seed_results(ids: list[str], runs: list) -> dict[str, list]:
    """A seed group's first run id → the results of its seeds (in seed order)."""
    result_of = dict(zip(ids, runs))
    heads, _, members = summaries(ids, runs)
    return {head: [result_of[rid] for rid in group] for head, group in zip(heads, members)}


def choose(ids: list[str], runs: list, labels: list[str]) -> tuple[list[str], list, list[str]]:
    """The switch between seed groups (mean ± std; the default) and single seeds, shown when some
    configuration was run with several seeds; returns the ids, results and labels to draw (a
    group's id is its first run's)."""
    heads, made, members = summaries(ids, runs)
    if len(heads) == len(ids):
        return ids, runs, labels
    several = sum(len(m) > 1 for m in members)
    st.toggle(f"Seeds as mean ± std ({several} configuration{'s' * (several > 1)} with several seeds)",
              persist_state="session", key="seed_groups", help="On: runs that differ only by seed are one bar "
              "with an error bar (± one sample std over the seeds). Off: every seed on its own.")
    if not st.session_state["seed_groups"]:
        return ids, runs, labels
    names = run_labels([s.config for s in made])
    return heads, made, [f"{n} · {s.n} seeds" if s.n > 1 else n for n, s in zip(names, made)]


def table(ids: list[str], runs: list, labels: list[str]) -> pd.DataFrame:
    """One row per seed group: each headline metric's mean and its std over the seeds ("±" column),
    the seeds, their run ids."""
    rows = []
    for rid, r, label in zip(ids, runs, labels):
        s = r if isinstance(r, SeedSummary) else summarise_seeds([r], [rid])
        row = {"run": label, "method": s.config.method, "dataset": s.config.dataset, "ratio": s.config.ratio,
               "seeds": ", ".join(map(str, s.seeds)), "n": s.n, "epochs": s.epochs_completed}
        for key in HEADLINE:
            if key.endswith("_acc") and key.split("_")[0] in GROUPS:
                group = key.split("_")[0]
                row[key], row[f"± {key}"] = s.shot_acc.get(group), s.std["shot_acc"].get(group)
            else:
                row[key], row[f"± {key}"] = s.metrics.get(key), s.std.get(key)
        row["wall_seconds"] = s.wall_seconds
        row["run_ids"] = ", ".join(s.run_ids)
        rows.append(row)
    return pd.DataFrame(rows)


def column_config(frame: pd.DataFrame) -> dict:
    """Percent formats for the accuracy columns and their ± columns."""
    out = {}
    for key in HEADLINE:
        fmt = "%.3f" if key == "ece" else "percent"
        out[key] = st.column_config.NumberColumn(key, format=fmt)
        out[f"± {key}"] = st.column_config.NumberColumn("±", format=fmt, help=f"sample std of {key} over the seeds")
    out["wall_seconds"] = st.column_config.NumberColumn("wall time (s, all seeds)", format="%.1f")
    return out
