"""Reproduced paper tables (written by `python -m ltcore reproduce TABLE`) on the Compare page:
ours (mean ± std over seeds) beside the published top-1 accuracy, with the difference and source."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import frame, widgets
from ltcore import LTError, reproduce

COLUMNS = {"ratio": "ρ", "method": "method", "epochs": "epochs", "seeds": "seeds", "ours_mean": "ours %",
           "ours_std": "± std", "published": "published %", "delta": "Δ (ours − published)",
           "many_mean": "many-shot %", "medium_mean": "medium-shot %", "few_mean": "few-shot %",
           "few_std": "few ± std", "reference": "reference table",
           "reference_published": "reference published %", "source": "source of the published value"}
NUMERIC = ("ratio", "epochs", "seeds", "ours_mean", "ours_std", "published", "delta", "many_mean", "medium_mean",
           "few_mean", "few_std", "reference_published")


def table_frame(rows: list[dict]) -> pd.DataFrame:
    """The CSV rows as a display table (numbers as numbers, empty cells as gaps). Columns a table
    does not fill (no reference table, an older CSV without the shot groups' std) are left out."""
    df = pd.DataFrame(rows)
    df = df[[c for c in COLUMNS if c in df.columns]]
    for col in NUMERIC:
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    df = df.drop(columns=[c for c in ("reference", "reference_published", "few_std", "many_mean", "medium_mean")
                          if c in df.columns and df[c].replace("", pd.NA).isna().all()])
    return df.rename(columns=COLUMNS)


def show_saved_tables() -> None:
    """An expander listing the reproduced tables in the data folder; nothing when there are none."""
    paths = reproduce.saved_tables()
    if not paths:
        return
    with st.expander(f"Reproduced paper tables ({len(paths)})", icon=":material/table_chart:"):
        chosen = st.selectbox("Table", paths, format_func=lambda p: p.stem, persist_state="session",
                              key="reproduced_table")
        try:
            df = table_frame(reproduce.read_table(chosen))
        except LTError as exc:  # one damaged file is a warning; the other tables and the page stay
            st.warning(frame.plain(exc))
            return
        st.dataframe(df, hide_index=True)
        if "reference published %" in df.columns:
            st.caption("The reference column is another data set's published value (e.g. CIFAR-10-LT for the "
                       "MNIST-1D-LT table), shown for the ordering of the presets only: no difference is taken.")
        elif df["published %"].isna().all():
            st.caption("No published column: this table was trained on a data set without published numbers "
                       "(e.g. the offline synthetic_cifar smoke table).")
        widgets.download_table(df, chosen.stem)
