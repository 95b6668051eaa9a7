"""Figures of finished runs built once per process and shared by every session: keyed by the chart
kind, the result objects (their ids: the entry keeps them alive, so an id stays theirs) and the
labels and options. A rerun with the same runs selected builds nothing, and sends a figure whose
plotly JSON dict was made once (`freeze`). Freezing is where user text is made plain
(`app.logic.plaintext.plain_figure`); `app.ui.plot.chart` freezes every figure a page shows."""
from __future__ import annotations

from typing import Callable, Hashable

import plotly.graph_objects as go

from ltcore.data import default_data_dir

from app.logic import memo as shared
from app.logic.plaintext import plain_figure

_FIGURES = shared.Memo(max_entries=256)


class FrozenFigure(go.Figure):
    """A finished figure whose `to_dict()` (a deep copy plus base64 packing of every array: most
    of `st.plotly_chart`'s time, ~0.2 s for the Geometry scatter here) was computed once. Streamlit
    only reads it (`to_dict`, then JSON); it is never edited. Height and width stay readable. Its
    strings are made plain here, once (`plain_figure`): no user text renders as markup."""

    def __init__(self, figure: go.Figure):
        spec = plain_figure(figure.to_dict())
        layout = spec.get("layout", {})
        super().__init__(layout={k: layout[k] for k in ("height", "width") if k in layout})
        self._frozen = spec

    def to_dict(self) -> dict:
        return self._frozen


def freeze(figure):
    """`figure` as a FrozenFigure (anything else, or an already frozen one, unchanged)."""
    if isinstance(figure, go.Figure) and not isinstance(figure, FrozenFigure):
        return FrozenFigure(figure)
    return figure


def get(kind: Hashable, runs: list, labels: list[str], build: Callable, *options: Hashable):
    """`build(runs, labels)` for these runs, built (and frozen) once per (kind, runs, labels, options)."""
    key = (str(default_data_dir()), kind, tuple(id(r) for r in runs), tuple(labels), options)
    _, figure = _FIGURES.get(key, lambda: (tuple(runs), freeze(build(runs, labels))))
    return figure
