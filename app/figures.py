"""Figures of finished runs built once per process and shared by every session: keyed by the chart
kind, the result objects (their ids: the entry keeps them alive, so an id stays theirs) and the
labels and options. A rerun with the same runs selected builds nothing."""
from __future__ import annotations

from typing import Callable, Hashable

from ltcore.data import default_data_dir

from . import shared

_FIGURES = shared.Memo(max_entries=256)


def get(kind: Hashable, runs: list, labels: list[str], build: Callable, *options: Hashable):
    """`build(runs, labels)` for these runs, built once per (kind, runs, labels, options)."""
    key = (str(default_data_dir()), kind, tuple(id(r) for r in runs), tuple(labels), options)
    _, figure = _FIGURES.get(key, lambda: (tuple(runs), build(runs, labels)))
    return figure
