"""Draw a lesson's charts from its finished runs (the same builders as Compare and Geometry).
Finished runs never change, so each chart is built once per process and shared by the class."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ltcore.data import default_data_dir
from ltcore.sweep import summarise

from . import charts, charts_eval, charts_geometry, compare_view, lessons, shared, whatif
from .figures import freeze

_FIGURES = shared.Memo(max_entries=128)


def figures(kind: str, ids: list[str], runs: list, labels: list[str]) -> list[tuple[str, object]]:
    """The figures of one chart kind of lessons.CHARTS as (key suffix, figure); the first run is
    the baseline."""
    if kind == "per_class":
        return [("", charts.per_class_accuracy(runs, labels))]
    if kind == "shots":
        return [("", charts.shot_accuracy(runs, labels))]
    if kind == "change" and len(runs) > 1:
        return [("", charts.accuracy_change(runs, labels, runs[0], labels[0]))]
    if kind == "regions":
        grids = [(compare_view.decision_grid(str(default_data_dir()), rid), lab) for rid, lab in zip(ids, labels)]
        grids = [(g, lab) for g, lab in grids if g is not None]
        if grids:
            g, lab = zip(*grids)
            return [("", charts_eval.decision_regions(list(g), list(lab), runs[0].class_names))]
    if kind == "norms":  # the baseline's norms beside the first method's
        return [(f"_{i}", charts_geometry.norms_vs_frequency(r, lab))
                for i, (r, lab) in enumerate(list(zip(runs, labels))[:2]) if "minority_collapse" in r.extras]
    if kind == "tau":
        with_tau = [(r, lab) for r, lab in zip(runs, labels) if r.extras.get("tau_curve")]
        if with_tau:
            return [("", charts_eval.tau_curve(*zip(*with_tau)))]
    if kind == "nc":
        return [("", charts_geometry.nc_history(runs, labels))]
    if kind == "cosines":
        return [(f"_{i}", charts_geometry.cosine_heatmaps(r, lab))
                for i, (r, lab) in enumerate(zip(runs, labels)) if "neural_collapse" in r.extras]
    return []


def draw(kind: str, ids: list[str], runs: list, labels: list[str], key: str) -> None:
    """One chart kind for the runs, built once per process for these results (the entry keeps the
    result objects alive, so their ids in the key stay theirs)."""
    if kind == "whatif":  # interactive: the first (plain) run re-scored live, never memoised
        whatif.panel(ids[:1], labels[:1], key=key)
        return
    memo_key = (str(default_data_dir()), kind, tuple(ids), tuple(labels), tuple(id(r) for r in runs))
    _, built = _FIGURES.get(memo_key, lambda: (tuple(runs), [(suffix, freeze(fig)) for suffix, fig in
                                                              figures(kind, ids, runs, labels)]))
    for suffix, figure in built:
        st.plotly_chart(figure, key=f"{key}{suffix}")


def first_seed(configs, ids: list[str], results: list) -> tuple[list[str], list, list[str]]:
    """(ids, results, labels) of each method's first seed, for the charts (labels: method names)."""
    seen, out = set(), ([], [], [])
    for config, rid, result in zip(configs, ids, results):
        if config.method not in seen:
            seen.add(config.method)
            out[0].append(rid)
            out[1].append(result)
            out[2].append(config.method)
    return out


def _value(side, name: str, stats: tuple[float, float, int]) -> str:
    mean, std, n = stats
    percent = name in ("balanced", "many", "medium", "few")
    number = f"{100 * mean:.1f}" if percent else f"{mean:+.3f}" if name in ("tail_cos", "feat_tail_cos") else f"{mean:.2f}"
    if not n:
        return number + (" %" if percent else "")
    spread = f"{100 * std:.1f}" if percent else f"{std:.3f}" if name in ("tail_cos", "feat_tail_cos") else f"{std:.2f}"
    return f"{side.partition('.')[0]} {number} ± {spread}{' %' if percent else ''}"


def claims(lesson, results: list, key: str) -> None:
    """Mean ± std over the lesson's seeds per method, and each claim of the text checked on them."""
    by_method: dict[str, list] = {}
    for r in results:
        by_method.setdefault(r.config.method, []).append(r)
    rows = summarise(results)
    table = pd.DataFrame([{"method": row["method"], "seeds": row["seeds"],
                           **{name: "—" if row[k] is None else f"{100 * row[k]:.1f} ± {100 * row[k + '_std']:.1f} %"
                              for name, k in (("balanced", "balanced_acc"), ("many-shot", "many"),
                                              ("medium-shot", "medium"), ("few-shot", "few"))}} for row in rows])
    seeds = max(len(v) for v in by_method.values())
    with st.container(border=True, key=f"{key}_claims"):
        st.markdown(f"**What the text claims, checked on these runs** (mean ± std over {seeds} seeds)")
        for c in lesson.claims:
            result = lessons.check(c, by_method)
            name = c.left.partition(".")[2]
            right = _value(c.right, name, result.right) if isinstance(c.right, str) else _value(
                "", name, result.right)
            mark = ":green[✓ holds]" if result.holds else ":red[✗ does not hold]"
            st.markdown(f"{mark}: {c.say} — {_value(c.left, name, result.left)} vs {right}")
        st.dataframe(table, hide_index=True, key=f"{key}_seed_table")
