"""User text on its way into a plotly figure, shown as text and never as markup.

Plotly renders a subset of HTML in every text it draws (tick labels, legend entries, hover
labels, titles, annotations): `<a href=…>` becomes a live link, `<span style=…>` restyles the
chart. Class names (folder names), tags, file names, lesson text and run labels come from users,
so every figure is passed through `plain_figure` once, where it is frozen for Streamlit
(`app.figures.FrozenFigure`):

- data text (categories, trace names, hover text, tick text, custom data: every string except
  the keys below) is escaped whole (`plain`), so it reads exactly as typed;
- app-written markup (titles, annotations, hover/text templates) keeps only the formatting tags
  the app writes (`<br>`, `<b>`, `<i>`, `<sup>`, `<sub>`, `<extra>`); any other tag (a link, a
  style) is escaped. A builder that puts user text into such markup passes it through `plain`.

This module imports neither streamlit nor ltcore: chart builders and pages both use it.
"""
from __future__ import annotations

import re

import numpy as np

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
MARKUP_KEYS = frozenset({"hovertemplate", "texttemplate"})   # app-written templates
MARKUP_PARENTS = frozenset({"title", "annotations"})          # their `text` is app-written markup
FORMAT_TAG = re.compile(r"</?(?:br|b|i|em|sup|sub|extra)\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>|[<>]")


def plain(text) -> str:
    """`text` escaped for plotly: `<`, `>` and `&` shown as themselves, never read as markup."""
    return str(text).translate(_ESCAPES)


def app_markup(text: str) -> str:
    """App-written markup with every tag escaped except the formatting tags in FORMAT_TAG (entities
    are left alone, so user text already passed through `plain` is not escaped twice)."""
    return _TAG.sub(lambda m: m.group(0) if FORMAT_TAG.fullmatch(m.group(0)) else plain(m.group(0)), text)


def plain_figure(spec, key: str = "", parent: str = ""):
    """A copy of a figure's JSON dict (`go.Figure.to_dict()`) with every string made safe: data
    text escaped whole, app markup (MARKUP_KEYS, `text` under a title or an annotation) kept to
    its formatting tags."""
    if isinstance(spec, str):
        markup = key in MARKUP_KEYS or (key == "text" and parent in MARKUP_PARENTS)
        return app_markup(spec) if markup else plain(spec)
    if isinstance(spec, dict):
        return {k: plain_figure(v, k, key) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [plain_figure(v, key, parent) for v in spec]
    if isinstance(spec, np.ndarray) and spec.dtype.kind in "OUS":
        return np.array([plain_figure(v, key, parent) for v in spec.ravel().tolist()],
                        dtype=object).reshape(spec.shape)
    return spec
