"""Data-set registry and the long-tailed view of a data set that training and the UI use."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..paths import default_data_dir
from ..registry import Registry
from .imbalance import draw_subset, profile_counts_for, ratio_shortfall, real_ratio

DATASETS = Registry("data set")
"""name → loader(data_dir: Path, seed: int, **options) -> DataSplit.

meta: shape (C, H, W) or (d,), num_classes, kind ("image"|"vector"), augment
("crop_flip"|"crop"|"none"), model (default model name), offline (bool: works with no files),
signal (bool, optional: vectors are 1-D signals, drawn as lines on the Data page).
"""


@dataclass
class DataSplit:
    """A whole data set: a training pool, a balanced validation split and a balanced test set.

    Images are uint8 (N, C, H, W) and converted per batch on the device; vectors are float32 (N, d).
    The validation split (`x_val`, `y_val`) is disjoint from the training pool and from the test
    set (see `holdout.py`): hyper-parameters are chosen there, numbers are reported on the test
    set. A split built without one gets an empty validation split (no choice can be made on it).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    warnings: list[str] = field(default_factory=list)
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None

    def __post_init__(self):
        if self.x_val is None or self.y_val is None:
            self.x_val, self.y_val = self.x_test[:0], self.y_test[:0]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def available_counts(self) -> list[int]:
        return torch.bincount(self.y_train, minlength=self.num_classes).tolist()

    def val_counts(self) -> list[int]:
        return torch.bincount(self.y_val, minlength=self.num_classes).tolist()


@dataclass
class LongTailData:
    """The long-tailed training subset (drawn with a seed), the balanced validation split and the
    untouched balanced test set (both in `split`)."""

    split: DataSplit
    train_idx: torch.Tensor
    counts: list[int]
    profile: str
    ratio: float

    @property
    def x_train(self) -> torch.Tensor:
        return self.split.x_train[self.train_idx]

    @property
    def y_train(self) -> torch.Tensor:
        return self.split.y_train[self.train_idx]

    @property
    def actual_ratio(self) -> float:
        """n_max / n_min of the drawn subset (can differ from the asked `ratio`: whole images)."""
        return real_ratio(self.counts)

    @property
    def ratio_note(self) -> str | None:
        """A sentence when the data cannot reach the asked ratio (None when it does, or for `none`)."""
        return None if self.profile in ("none", "balanced") else ratio_shortfall(self.counts, self.ratio)


def load_split(name: str, data_dir: str | Path | None = None, seed: int = 0, **options) -> DataSplit:
    """Load a registered data set (raises DataMissingError with instructions when files are absent)."""
    entry = DATASETS.get(name)
    path = Path(data_dir).expanduser() if data_dir else default_data_dir()
    return entry.obj(path, seed, **options)


def make_longtail(split: DataSplit, profile: str = "exp", ratio: float = 100.0, seed: int = 0,
                  minority_fraction: float = 0.5) -> LongTailData:
    """Apply an imbalance profile to a split's training pool; identical inputs → identical subset."""
    counts = profile_counts_for(split.available_counts(), ratio, profile, minority_fraction)
    idx = draw_subset(split.y_train, counts, seed)
    return LongTailData(split, idx, counts, profile, float(ratio))


def balanced_like(lt: LongTailData, seed: int = 0) -> LongTailData:
    """A balanced subset of the same total size as `lt` (for relative accuracy, Zhang et al. §4.1)."""
    avail = lt.split.available_counts()
    k = len(avail)
    per_class = sum(lt.counts) // k
    counts = [min(per_class, a) for a in avail]
    idx = draw_subset(lt.split.y_train, counts, seed)
    return LongTailData(lt.split, idx, counts, "balanced", 1.0)
