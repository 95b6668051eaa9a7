"""The practitioner's question "Which fix helps on my data?": one button (Data and Train, for an
image folder) trains plain `ce` and one representative of each family of fixes over 3 seeds; once
they are done, Train answers in a few sentences with intervals (`ltcore.metrics.fixes`), a table
of the gains and a link to Compare. The answer is derived from the runs in view, so a reload or a
shared link shows it again."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.logic import state
from app.ui import frame, jobs, widgets
from ltcore import Config
from ltcore.metrics import fixes

SAME_DATA = ("dataset", "data_path", "profile", "ratio", "minority_fraction", "model", "epochs", "lr",
             "batch_size")
"""What the runs of one answer share (everything but method, its parameters and the seed)."""


def plan(values: dict) -> list[Config]:
    """Every configuration the button trains: ce and each family's representative × 3 seeds."""
    seeds = [int(values["seed"]) + i for i in range(fixes.SEEDS)]
    return [state.make_config(values, m, s) for m in fixes.METHODS for s in seeds]


def button(where: str) -> None:
    """The button, for an image folder in view (`where`: the page's name, for the widget key)."""
    if frame.get("dataset") != "imagefolder" or frame.folder_missing():
        return
    with st.container(border=True, key=f"whichfix_{where}"):
        families = ", ".join(f"{family} (`{m}`)" for family, m in fixes.FAMILIES.items())
        st.markdown(f"**Which fix helps on my data?** Trains plain `ce` and one method of each family — "
                    f"{families} — over {fixes.SEEDS} seeds ({len(fixes.METHODS) * fixes.SEEDS} runs of "
                    f"{frame.get('epochs')} epochs), then says which helps the rarest classes and at what "
                    "cost to the most frequent.")
        if st.button("Which fix helps on my data?", key=f"whichfix_go_{where}", icon=":material/help:"):
            with frame.guard():
                made = plan(frame.values())
            frame.put("methods", list(fixes.METHODS))
            frame.put("seeds", fixes.SEEDS)
            if widgets.submit(made) and where != "train":
                st.switch_page(widgets.PAGES / "train.py")


def members(run_ids: list[str]) -> list[str]:
    """The runs in view that form an answer: ce and the representatives on one data set and
    schedule (the group with the most of them; none unless it holds ce and a fix)."""
    groups: dict[tuple, list[str]] = {}
    for rid in run_ids:
        config = jobs.config(rid)
        if config is not None and config.method in fixes.METHODS and not config.method_params:
            groups.setdefault(tuple(getattr(config, k) for k in SAME_DATA), []).append(rid)
    best = max(groups.values(), key=len, default=[])
    methods = {jobs.config(r).method for r in best}
    return best if fixes.BASELINE in methods and len(methods) > 1 else []


def _by_method(ids: list[str], results: dict) -> dict[str, dict[int, object]]:
    runs: dict[str, dict[int, object]] = {}
    for rid in ids:
        r = results.get(rid)
        if r is not None and r.status == "done":
            runs.setdefault(r.config.method, {})[r.config.seed] = r
    return runs


def gains_table(found: list[fixes.FixEffect]) -> pd.DataFrame:
    """One row per fix: its family and its balanced / tail / head gains over ce (points ± interval)."""
    return pd.DataFrame([{"family": e.family, "method": e.method, "balanced acc. gain": e.balanced.text(),
                          "tail gain": e.tail.text(), "head gain": e.head.text(),
                          "seeds": ", ".join(map(str, e.seeds))} for e in found])


def _test_note(result) -> str:
    """How many test images each class's accuracy rests on, and what one of them is worth."""
    counts = result.metrics.get("test_counts") or []
    if not counts:
        return ""
    fewest, most = min(counts), max(counts)
    many = f"{fewest}–{most} images" if fewest != most else f"{fewest} image{'s' * (fewest != 1)}"
    return f" Each class is tested on {many}: one image moves a class's accuracy by {100 / max(fewest, 1):.0f} points."


def answer(run_ids: list[str]) -> None:
    """The verdict of the answer's runs in view (or how far they are), drawn on Train."""
    ids = members(run_ids)
    if not ids:
        return
    with st.container(border=True, key="whichfix_answer"):
        st.subheader("Which fix helps on my data?")
        statuses = jobs.statuses(ids)
        waiting = [r for r in ids if statuses.get(r, {}).get("status") in jobs.ACTIVE]
        if waiting:
            st.info(f"{len(ids) - len(waiting)} of {len(ids)} runs finished: the answer appears when all have.",
                    icon=":material/hourglass_top:")
            return
        runs = _by_method(ids, jobs.results(ids))
        found, head, tail = fixes.effects(runs)
        for line in fixes.verdict(found, fixes.against_best(found, runs)):
            st.markdown(frame.plain(line))
        if found:
            first = next(iter(runs[fixes.BASELINE].values()))

            def names(classes):
                return ", ".join(f"{first.class_names[k]} ({first.class_counts[k]})" for k in classes)
            with st.container(key="whichfix_gains"):
                st.table(gains_table(found).set_index("family"))  # four rows: plain text, no grid
            st.caption(f"Gains over plain ce in accuracy points, paired by seed: mean ± half-width of the "
                       f"{fixes.LEVEL:.0%} Student-t interval over the seeds. Tail: {names(tail)}; head: "
                       f"{names(head)} (training images). An interval that contains 0 cannot be told apart "
                       "from the seed's own noise; more seeds or more test images narrow it." + _test_note(first))
        done = [r for r in ids if statuses.get(r, {}).get("status") == "done"]
        if st.button("Open these runs on Compare", key="whichfix_compare", icon=":material/compare_arrows:",
                     disabled=not done):
            widgets.show_runs(done, replace=True)
            st.switch_page(widgets.PAGES / "compare.py")
