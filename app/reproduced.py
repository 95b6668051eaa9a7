"""Reproduced paper tables (written by `python -m ltcore reproduce TABLE`) on the Compare page:
ours (mean ± std over seeds) beside the published top-1 accuracy, with the difference and source."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app import widgets
from ltcore import reproduce

COLUMNS = {"ratio": "ρ", "method": "method", "epochs": "epochs", "seeds": "seeds", "ours_mean": "ours %",
           "ours_std": "± std", "published": "published %", "delta": "Δ (ours − published)",
           "few_mean": "few-shot %", "source": "source of the published value"}


def table_frame(rows: list[dict]) -> pd.DataFrame:
    """The CSV rows as a display table (numbers as numbers, empty cells as gaps)."""
    df = pd.DataFrame(rows)[list(COLUMNS)]
    for col in ("ratio", "epochs", "seeds", "ours_mean", "ours_std", "published", "delta", "few_mean"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df.rename(columns=COLUMNS)


def show_saved_tables() -> None:
    """An expander listing the reproduced tables in the data folder; nothing when there are none."""
    paths = reproduce.saved_tables()
    if not paths:
        return
    with st.expander(f"Reproduced paper tables ({len(paths)})", icon=":material/table_chart:"):
        chosen = st.selectbox("Table", paths, format_func=lambda p: p.stem, key="reproduced_table")
        df = table_frame(reproduce.read_table(chosen))
        st.dataframe(df, hide_index=True)
        if df["published %"].isna().all():
            st.caption("No published column: this table was trained on a data set without published numbers "
                       "(e.g. the offline synthetic_cifar smoke table).")
        widgets.download_table(df, chosen.stem)
