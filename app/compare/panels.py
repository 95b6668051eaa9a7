"""The Compare page's panels that need streamlit: seeds as error bars (runs that differ only by seed
become one entry, mean ± std over the seeds, `ltcore.metrics.seeds`; with the switch off they stay
single runs), the Curves tab (overlaid per-epoch curves with smoothing and a log axis, train vs test
accuracy, the class × epoch heatmap of one run or seed group; figures built once per process for the
same results and options, memo.Memo), and the store look-ups behind the page (relative-accuracy
references and decision-region grids)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ltcore import Config, LTError
from ltcore.inference import decision_grid as core_decision_grid
from ltcore.metrics import reference_configs, relative_accuracy
from ltcore.metrics.relative import REFERENCES
from ltcore.metrics.seeds import SeedSummary, group_by_seed, summarise_seeds

from app.charts import curves as charts_runs
from app.charts.cache import freeze
from app.logic import memo as shared
from app.logic.labels import own_ratio, ratio_value, run_labels
from app.logic.tables import GROUPS
from app.ui import jobs
from app.ui.plot import chart

# --- seeds as error bars ---------------------------------------------------------------------------
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
    names = run_labels([s.config for s in made], [own_ratio(s) for s in made])
    return heads, made, [f"{n} · {s.n} seeds" if s.n > 1 else n for n, s in zip(names, made)]


def table(ids: list[str], runs: list, labels: list[str]) -> pd.DataFrame:
    """One row per seed group: each headline metric's mean and its std over the seeds ("±" column),
    the seeds, their run ids."""
    rows = []
    for rid, r, label in zip(ids, runs, labels):
        s = r if isinstance(r, SeedSummary) else summarise_seeds([r], [rid])
        row = {"run": label, "method": s.config.method, "dataset": s.config.dataset,
               "ratio": ratio_value(s.config.profile, s.config.ratio, own_ratio(s)),
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


# --- the Curves tab ------------------------------------------------------------------------------

_FIGURES = shared.Memo(max_entries=128)


def groups(ids: list[str], runs: list, by_seed: bool) -> list[tuple[str, list[str], list[list[dict]]]]:
    """(label, run ids, histories) per line: one per seed group (`by_seed`) or one per run."""
    members = group_by_seed([r.config for r in runs]) if by_seed else [[i] for i in range(len(runs))]
    names = run_labels([runs[g[0]].config for g in members], [own_ratio(runs[g[0]]) for g in members])
    return [(name, [ids[i] for i in g], [runs[i].history for i in g]) for name, g in zip(names, members)]


def _figure(kind: str, runs: list, options: tuple, build):
    key = (kind, tuple(id(r) for r in runs), options)
    _, figure = _FIGURES.get(key, lambda: (tuple(runs), freeze(build())))
    return figure


def draw_curves(ids: list[str], runs: list, by_seed: bool) -> None:
    lines = groups(ids, runs, by_seed)
    ss = st.session_state
    if ss["curves_metric"] not in charts_runs.METRICS:  # a link from another version
        ss["curves_metric"] = "balanced_acc"
    ss["curves_smooth"] = min(max(float(ss["curves_smooth"]), 0.0), 0.95)
    if ss.get("heatmap_run", 0) not in range(len(lines)):
        ss["heatmap_run"] = 0
    named = [(label, histories) for label, _, histories in lines]
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    c1.selectbox("Metric", list(charts_runs.METRICS), persist_state="session", key="curves_metric",
                 format_func=charts_runs.METRICS.get)
    c2.slider("Smoothing (EMA weight, as in TensorBoard)", 0.0, 0.95, step=0.05, persist_state="session",
              key="curves_smooth")
    c3.toggle("Log axis", persist_state="session", key="curves_log")
    options = (ss["curves_metric"], ss["curves_smooth"], ss["curves_log"], tuple(label for label, _ in named))
    chart(_figure("curves", runs, options, lambda: charts_runs.overlaid_curves(
        named, ss["curves_metric"], ss["curves_smooth"], ss["curves_log"])), key="curves")
    chart(_figure("train_test", runs, options[3:], lambda: charts_runs.train_vs_test(named)),
                    key="train_test")
    which = st.selectbox("Per-class accuracy over epochs of", range(len(lines)), persist_state="session",
                         key="heatmap_run", format_func=lambda i: lines[i][0]) if len(lines) > 1 else 0
    label, members, histories = lines[which]
    first = runs[ids.index(members[0])]
    chart(_figure("heatmap", runs, (label, tuple(members)), lambda: charts_runs.class_epoch_heatmap(
        histories, first.class_names, first.class_counts, label)), key="class_epochs")
    st.caption("Rows: classes from the most to the least frequent (training images in brackets); columns: epochs. "
               "Watch whether the tail rows at the bottom ever light up.")


# --- store look-ups ------------------------------------------------------------------------------


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
