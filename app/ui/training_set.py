"""The long-tailed training set of the current view, loaded through the core and cached."""
from __future__ import annotations

from typing import Any, Callable, Hashable

import numpy as np
import streamlit as st
import torch

from ltcore.data import LongTailData, default_data_dir, load_split, make_longtail
from ltcore.data.imbalance import gini
from ltcore.metrics import shot_groups

from app.logic import memo as shared

_VIEWS = shared.Memo(max_entries=64)


@st.cache_resource(show_spinner="Loading the data set…", max_entries=8)
def _split(name: str, data_path: str, data_dir: str, seed: int):
    options = {"path": data_path} if data_path else {}
    return load_split(name, data_dir, seed, **options)


@st.cache_resource(show_spinner="Drawing the long-tailed subset…", max_entries=16)
def _longtail(name: str, data_path: str, data_dir: str, seed: int, profile: str, ratio: float,
              mu: float) -> LongTailData:
    return make_longtail(_split(name, data_path, data_dir, seed), profile, ratio, seed, mu)


def longtail(values: dict) -> LongTailData:
    """The training subset the current data set / profile / ratio / seed gives (raises LTError)."""
    data_path = values["data_path"] if values["dataset"] == "imagefolder" else ""
    return _longtail(values["dataset"], data_path, str(default_data_dir()), int(values["seed"]),
                     values["profile"], float(values["ratio"]), float(values["mu"]))


def examples(data: LongTailData, per_class: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` training images of each class (images, labels) for the gallery."""
    y = data.split.y_train[data.train_idx]
    keep = torch.cat([data.train_idx[y == k][:per_class] for k in range(data.split.num_classes)])
    return data.split.x_train[keep].numpy(), data.split.y_train[keep].numpy()


def summary(data: LongTailData) -> dict:
    """The numbers that summarise a training set's imbalance."""
    counts = data.counts
    groups, rule = shot_groups(counts)
    return {"total": sum(counts), "actual_ratio": data.actual_ratio, "smallest": min(counts),
            "largest": max(counts), "gini": gini(counts), "groups": groups, "rule": rule,
            "test_counts": data.split.y_test.bincount(minlength=data.split.num_classes).tolist(),
            "val_counts": data.split.val_counts()}


def view(data: LongTailData, name: Hashable, build: Callable[[], Any]) -> Any:
    """What `build` makes of this training set (a figure, a summary), built once per process and
    shared by every session; the entry keeps `data` alive, so its id in the key stays its own."""
    _, value = _VIEWS.get((id(data), name), lambda: (data, build()))
    return value
