"""The long-tailed training set of the current view, loaded through the core and cached."""
from __future__ import annotations

import streamlit as st

from ltcore.data import DATASETS, LongTailData, default_data_dir, load_split, make_longtail
from ltcore.data.imbalance import gini
from ltcore.metrics import shot_groups


@st.cache_resource(show_spinner="Loading the data set…", max_entries=8)
def _split(name: str, data_path: str, data_dir: str, seed: int):
    options = {"path": data_path} if data_path else {}
    return load_split(name, data_dir, seed, **options)


def longtail(values: dict) -> LongTailData:
    """The training subset the current data set / profile / ratio / seed gives (raises LTError)."""
    data_path = values["data_path"] if values["dataset"] == "imagefolder" else ""
    split = _split(values["dataset"], data_path, str(default_data_dir()), int(values["seed"]))
    return make_longtail(split, values["profile"], values["ratio"], int(values["seed"]), values["mu"])


def summary(data: LongTailData) -> dict:
    """The numbers that summarise a training set's imbalance."""
    counts = data.counts
    groups, rule = shot_groups(counts)
    return {"total": sum(counts), "actual_ratio": data.actual_ratio, "smallest": min(counts),
            "largest": max(counts), "gini": gini(counts), "groups": groups, "rule": rule,
            "test_counts": data.split.y_test.bincount(minlength=data.split.num_classes).tolist()}


def kind(dataset: str) -> str:
    """"image" or "vector" (the registry's meta)."""
    return DATASETS.get(dataset).meta.get("kind", "image")
