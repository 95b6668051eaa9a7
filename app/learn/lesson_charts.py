"""Draw a lesson's charts from its finished runs (the same builders as Compare and Geometry).
Finished runs never change, so each chart is built once per process and shared by the class."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ltcore.data import default_data_dir
from ltcore.sweep import summarise

from app.charts import base as charts, diagnostics as charts_eval, geometry as charts_geometry
from app.charts.cache import freeze
from app.compare import panels, whatif
from app.logic import memo as shared
from app.ui.plot import chart
from ltcore import lessons

_FIGURES = shared.Memo(max_entries=128)
MEAN_CHARTS = ("per_class", "shots", "change", "norms", "cosines")
"""Chart kinds drawn as the mean ± std over the lesson's seeds (what its claims are checked on);
the others show one run per method (its first seed), and say so."""


@dataclass(frozen=True)
class SeedView:
    """A lesson's finished runs per method (lessons.toml order): the first seed's run id and
    result, the mean ± std over the seeds (a SeedSummary), the seeds' results, the method name."""

    ids: list
    first: list
    means: list
    members: list
    labels: list

    @property
    def seeds(self) -> int:
        return max(len(m) for m in self.members)


def seed_view(ids: list[str], results: list) -> SeedView:
    """The lesson's runs grouped by configuration over seeds (the summaries are shared by every
    session, as on Compare)."""
    heads, means, members = panels.summaries(ids, results)
    result_of = dict(zip(ids, results))
    seeds = [[result_of[rid] for rid in group] for group in members]
    return SeedView(heads, [s[0] for s in seeds], means, seeds, [m.config.method for m in means])


def figures(kind: str, view: SeedView) -> list[tuple[str, object]]:
    """The figures of one chart kind of lessons.CHARTS as (key suffix, figure); the first method
    is the baseline."""
    ids, runs, labels = view.ids, view.first, view.labels
    if kind == "per_class":
        return [("", charts.per_class_accuracy(view.means, labels))]
    if kind == "shots":
        return [("", charts.shot_accuracy(view.means, labels))]
    if kind == "change" and len(runs) > 1:
        return [("", charts.accuracy_change(view.means, labels, view.means[0], labels[0], view.members,
                                            view.members[0]))]
    if kind == "regions":
        grids = [(panels.decision_grid(str(default_data_dir()), rid), lab) for rid, lab in zip(ids, labels)]
        grids = [(g, lab) for g, lab in grids if g is not None]
        if grids:
            g, lab = zip(*grids)
            return [("", charts_eval.decision_regions(list(g), list(lab), runs[0].class_names))]
    if kind == "norms":  # the baseline's norms beside the first method's
        return [(f"_{i}", charts_geometry.norms_vs_frequency(r, lab, seeds))
                for i, (r, lab, seeds) in enumerate(list(zip(runs, labels, view.members))[:2])
                if "minority_collapse" in r.extras]
    if kind == "tau":
        with_tau = [(r, lab) for r, lab in zip(runs, labels) if r.extras.get("tau_curve")]
        if with_tau:
            return [("", charts_eval.tau_curve(*zip(*with_tau)))]
    if kind == "nc":
        return [("", charts_geometry.nc_history(runs, labels))]
    if kind == "cosines":
        return [(f"_{i}", charts_geometry.cosine_heatmaps(r, lab, seeds))
                for i, (r, lab, seeds) in enumerate(zip(runs, labels, view.members)) if "neural_collapse" in r.extras]
    return []


def build(kind: str, view: SeedView) -> list[tuple[str, object]]:
    """The frozen figures of one (non-interactive) chart kind, built once per process for these
    results (the entry keeps the result objects alive, so their ids in the key stay theirs)."""
    memo_key = (str(default_data_dir()), kind, tuple(view.ids), tuple(view.labels),
                tuple(id(r) for r in view.means), tuple(id(r) for r in view.first))
    _, built = _FIGURES.get(memo_key, lambda: ((view.means, view.first), [(suffix, freeze(fig)) for suffix, fig
                                                                          in figures(kind, view)]))
    return built


def draw(kind: str, view: SeedView, key: str) -> None:
    """One chart kind for the lesson's runs (`build`: once per process)."""
    if kind == "whatif":  # interactive: the first (plain) run re-scored live, never memoised
        whatif.panel(view.ids[:1], view.labels[:1], key="lesson_whatif")  # one lesson at a time: its τs in the link
        return
    built = build(kind, view)
    for suffix, figure in built:
        chart(figure, key=f"{key}{suffix}")
    if built and kind == "nc":
        for note in stage_notes(view):
            st.caption(note)
    if built and view.seeds > 1:
        st.caption(f"Mean over the {view.seeds} seeds (hover a cell for ± one std)." if kind == "cosines" else
                   f"Mean ± one std over the {view.seeds} seeds (what the claims above are checked on)."
                   if kind in MEAN_CHARTS else
                   f"One run per method: its first seed ({view.first[0].config.seed}) of {view.seeds}.")


def stage_notes(view: SeedView) -> list[str]:
    """One sentence per two-stage run of the lesson: where its stage 1 ends, what it reused (a
    reused plain `ce` model draws the same line as `ce` until then), and that the last point is after
    stage 2 — so a jump at the last epoch reads as the stage change it is."""
    out = []
    for label, run in zip(view.labels, view.first):
        stages = (run.extras or {}).get("stages") or []
        if len(stages) != 2:
            continue
        one, two = stages
        twin = next((lab for lab, r in zip(view.labels, view.first) if lab != label and r.config.method == "ce"
                     and r.config.epochs == one["epochs"]), None)
        reuse = (f"it reuses a plain-CE model, so until then its curves lie on `{twin}`'s" if one["reused"] and twin
                 else "reused from an earlier run" if one["reused"] else f"{one['what']}")
        out.append(f"`{label}` is two-stage: epochs 1–{one['epochs']} are stage 1 ({reuse}); its final values "
                   f"come after stage 2 ({two['what']}, the classifier re-trained), so they jump at the last epoch.")
    return out


def _value(side, name: str, stats: tuple[float, float, int]) -> str:
    mean, std, n = stats
    percent = name in ("balanced", "many", "medium", "few")
    number = (f"{100 * mean:.1f}" if percent
              else f"{mean:+.3f}" if name in ("tail_cos", "feat_tail_cos") else f"{mean:.2f}")
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
    checked_claims(lesson.claims, by_method, f"What the text claims, checked on these runs (mean ± std over "
                   f"{seeds} seeds)", key=f"{key}_claims", table=table, table_key=f"{key}_seed_table")


def checked_claims(found: tuple, by_method: dict, title: str, key: str, table=None, table_key: str = "") -> None:
    """A box of claims, each marked as holding or not on `by_method` (method → the seeds' results)."""
    with st.container(border=True, key=key):
        st.markdown(f"**{title}**")
        for c in found:
            result = lessons.check(c, by_method)
            name = (c.left if isinstance(c.left, str) else c.right).partition(".")[2]
            left, right = (_value(side if isinstance(side, str) else "", name, stats)
                           for side, stats in ((c.left, result.left), (c.right, result.right)))
            mark = ":green[✓ holds]" if result.holds else ":red[✗ does not hold]"
            st.markdown(f"{mark}: {c.say} — {left} vs {right}")
        if table is not None:
            st.dataframe(table, hide_index=True, key=table_key)
