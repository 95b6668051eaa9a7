"""The one way a figure reaches a page: frozen first (`app.charts.cache.freeze`), and freezing makes
every user string in it plain text (`app.logic.plaintext`), so no class name, tag or run label
renders as a link or a style in any chart."""
from __future__ import annotations

import streamlit as st

from app.charts.cache import freeze


def chart(figure, **kwargs) -> None:
    """`st.plotly_chart` of the frozen (so escaped) figure; keyword arguments as st.plotly_chart's."""
    st.plotly_chart(freeze(figure), **kwargs)
