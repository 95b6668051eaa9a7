"""Compare page statistics: each configuration's change in balanced accuracy against the baseline
with its 95 % interval and the "not distinguishable" mark, the test images behind every accuracy,
and the plain warning when the test set is too small to tell runs apart
(`ltcore.metrics.comparison` computes; this module only lays the numbers out)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ltcore.metrics.comparison import change, group_test_counts, small_test_set, test_counts
from ltcore.metrics.statistics import NOT_DISTINGUISHABLE

from ..logic.tables import GROUPS


def test_images(result) -> str:
    """'4000 (many 1600 · medium 1200 · few 1200)': the test images behind the run's accuracies."""
    total = sum(test_counts(result))
    groups = group_test_counts(result)
    parts = " · ".join(f"{g} {groups[g]}" for g in GROUPS if g in groups)
    return f"{total} ({parts})" if parts else str(total)


def change_table(labels: list[str], members: list[list], base_index: int) -> pd.DataFrame:
    """One row per configuration other than the baseline: its seeds, the change in balanced accuracy
    (points), the 95 % interval, how it was computed, and the verdict."""
    rows = []
    base = members[base_index]
    for i, (label, runs) in enumerate(zip(labels, members)):
        if i == base_index:
            continue
        ci = change(runs, base)
        has = ci is not None and ci.low is not None
        rows.append({
            "configuration": label, "seeds": ", ".join(str(r.config.seed) for r in runs),
            "Δ balanced (pts)": None if ci is None else round(100 * ci.estimate, 2),
            "95 % low": round(100 * ci.low, 2) if has else None,
            "95 % high": round(100 * ci.high, 2) if has else None,
            "interval from": ci.method if ci is not None else "no shared test set",
            "verdict": ("better" if ci.estimate > 0 else "worse") if has and ci.distinguishable else
                       (NOT_DISTINGUISHABLE if has and ci.method.startswith("paired") else
                        "not distinguishable from test-set noise" if has else "no interval"),
            "test images": test_images(runs[0]),
        })
    return pd.DataFrame(rows)


def show_change_table(labels: list[str], members: list[list], base_index: int, base_label: str) -> pd.DataFrame:
    """The change table under the chart, with a line saying how many changes are not distinguishable."""
    table = change_table(labels, members, base_index)
    if table.empty:
        return table
    st.markdown(f"**Balanced accuracy against {base_label}** — mean paired difference over seeds with its 95 % "
                "interval (one seed: a bootstrap over the test images)")
    st.dataframe(table, hide_index=True, key="change_stats")
    marked = table[table["verdict"].str.startswith("not distinguishable")]
    if not marked.empty:
        lines = [f"- {row['configuration']}: {row['Δ balanced (pts)']:+.1f} pts [{row['95 % low']:+.1f}, "
                 f"{row['95 % high']:+.1f}] ({row['interval from']}) — {row['verdict']}"
                 for _, row in marked.iterrows()]
        st.caption(f"{len(marked)} of {len(table)} change(s) have a 95 % interval that contains 0; more seeds "
                   "narrow a paired interval, more test images a bootstrap one.\n" + "\n".join(lines))
    return table


def warn_small_test_set(results) -> None:
    """The plain warning of `small_test_set` for the chosen runs' test set, if it applies."""
    note = small_test_set(test_counts(results[0])) if results else None
    if note:
        st.warning(note, icon=":material/casino:")


def with_change(table: pd.DataFrame, results: list, stats: pd.DataFrame | None) -> pd.DataFrame:
    """The Compare table with the test images behind each row's accuracies and, when a baseline is
    set (`stats` from `change_table`), its Δ balanced, interval and verdict (the baseline's row: "baseline")."""
    table = table.copy()
    table.insert(table.columns.get_loc("epochs") + 1 if "epochs" in table else len(table.columns),
                 "test images", [test_images(r) for r in results])
    if stats is None or table.empty:
        return table
    by_label = {row["configuration"]: row for row in stats.to_dict("records")}
    for col in ("Δ balanced (pts)", "95 % low", "95 % high", "verdict"):
        table[col] = [by_label.get(label, {}).get(col, "baseline" if col == "verdict" else None)
                      for label in table["run"]]
    return table


def column_config() -> dict:
    return {"Δ balanced (pts)": st.column_config.NumberColumn(format="%+.2f",
                                                             help="balanced accuracy minus the baseline's, in points"),
            "95 % low": st.column_config.NumberColumn(format="%+.2f"),
            "95 % high": st.column_config.NumberColumn(format="%+.2f"),
            "test images": st.column_config.TextColumn(help="test images behind the accuracies: all (per shot group)")}
