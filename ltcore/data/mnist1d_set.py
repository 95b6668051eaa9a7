"""MNIST-1D (Greydanus 2020, "Scaling down deep learning", arXiv:2011.14439): 10 classes of
40-long 1-D signals, generated offline by the `mnist1d` package from its ten digit templates
(padding, dilation, scaling, translation, correlated and i.i.d. noise, shear; the package's own
default arguments, seed 42).

The lab's `mnist1d` is a CIFAR-10-LT-sized version: 1500 signals per class are generated once
(the package's `make_dataset` with `num_samples` = 15000) and split into a training pool of 1000
per class (n_max = 1000, as CIFAR-10's 5000 scaled down; ρ up to 200 leaves 5 for the tail), a
balanced validation split of 100 and a balanced test set of 400 per class. The generated arrays
are cached in `<data_dir>/mnist1d/`, so later loads skip the (per-sample Python) generation.

`paper_split()` gives the paper's own set (the package defaults: 5000 signals, 4000 train / 1000
test) for the sanity anchor in `benchmarks/mnist1d_anchor.py`.
"""
from __future__ import annotations

import contextlib
import os
import random
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .base import DATASETS, DataSplit, default_data_dir
from .imbalance import draw_subset
from .holdout import TEST_HOLDOUT_SEED, VAL_HOLDOUT_SEED, balanced_holdout

TRAIN_PER_CLASS = 1000
VAL_PER_CLASS = 100
TEST_PER_CLASS = 400
NUM_CLASSES = 10
LENGTH = 40
SEED = 42            # the package's default generator seed
CACHE_VERSION = 1
UNLABELLED_PER_CLASS = 1000
UNLABELLED_SEED = SEED + 1   # a reservoir generated apart from the training pool, validation and test


@contextlib.contextmanager
def _global_rng_kept():
    """`mnist1d` seeds Python's and NumPy's global generators; give the caller's states back."""
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


def generate(num_samples: int, seed: int = SEED, train_split: float = 1.0):
    """The package's `make_dataset` with its default arguments except `num_samples`, `seed` and
    `train_split`: ((x_train, y_train), (x_test, y_test)), x float32 (N, 40), y int64.

    `make_dataset` makes num_samples // 10 signals of each class, shuffles them, standardises the
    whole set (zero mean, unit std) and cuts it at train_split."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = int(num_samples), int(seed), float(train_split)
    with _global_rng_kept():
        data = make_dataset(args)

    def pair(xk, yk):
        return (torch.as_tensor(np.asarray(data[xk]), dtype=torch.float32).reshape(-1, LENGTH),
                torch.as_tensor(np.asarray(data[yk]), dtype=torch.long))

    return pair("x", "y"), pair("x_test", "y_test")


@lru_cache(maxsize=2)
def _generated(num_samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) generated once per process (the file cache below serves later processes)."""
    (x, y), _ = generate(num_samples, seed)
    return x, y


def cache_path(folder: Path, num_samples: int, seed: int = SEED) -> Path:
    return Path(folder) / f"mnist1d-{num_samples}-seed{seed}-v{CACHE_VERSION}.pt"


def load_signals(folder: Path, num_samples: int, seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) of `num_samples` signals: from the data folder's cache file, else generated and
    saved there (atomically; a read-only folder only costs the saving)."""
    path = cache_path(folder, num_samples, seed)
    with contextlib.suppress(Exception):  # an unreadable or stale cache is regenerated, never fatal
        blob = torch.load(path, weights_only=True)
        if blob.get("version") == CACHE_VERSION and len(blob["y"]) == num_samples:
            return blob["x"], blob["y"]
    x, y = _generated(num_samples, seed)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"version": CACHE_VERSION, "num_samples": num_samples, "seed": seed, "x": x, "y": y}, tmp)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return x, y


def mnist1d_split(data_dir: Path, train_per_class: int = TRAIN_PER_CLASS, val_per_class: int = VAL_PER_CLASS,
                  test_per_class: int = TEST_PER_CLASS) -> DataSplit:
    """Generate (or read from the cache) per-class-balanced signals and split them into a
    training pool, a balanced validation split and a balanced test set (fixed seeds, so every run
    seed sees the same three parts; the run seed only picks the long-tailed subset)."""
    per_class = train_per_class + val_per_class + test_per_class
    folder = Path(data_dir).expanduser() / "mnist1d"
    x, y = load_signals(folder, per_class * NUM_CLASSES, SEED)
    pool, test = balanced_holdout(y, test_per_class, TEST_HOLDOUT_SEED)
    rest, val = balanced_holdout(y[pool], val_per_class, VAL_HOLDOUT_SEED)
    train, val = pool[rest], pool[val]
    return DataSplit("mnist1d", x[train], y[train], x[test], y[test], [str(d) for d in range(NUM_CLASSES)],
                     x_val=x[val], y_val=y[val])


def unlabelled_signals(counts: list[int], seed: int, data_dir: Path | None = None) -> torch.Tensor:
    """Extra signals for self-training's unlabelled pool, labels dropped: counts[k] of class k (at
    most UNLABELLED_PER_CLASS) drawn with the run seed from a reservoir that the package generates
    with its own seed (UNLABELLED_SEED), so none of them is a training, validation or test signal.
    The reservoir (10,000 signals, standardised by `make_dataset` on its own like the main set) is
    cached in `<data_dir>/mnist1d/` as the main set is."""
    folder = Path(data_dir or default_data_dir()).expanduser() / "mnist1d"
    x, y = load_signals(folder, UNLABELLED_PER_CLASS * NUM_CLASSES, UNLABELLED_SEED)
    return x[draw_subset(y, counts, seed)]


def paper_split(data_dir: Path | None = None) -> DataSplit:
    """The paper's MNIST-1D: the package defaults (5000 signals, seed 42), its first 4000 for
    training and the last 1000 for testing (about 100 per class, as shuffled). No validation split
    (the paper has none); for the anchor measurement only."""
    (x_tr, y_tr), (x_te, y_te) = generate(5000, SEED, 0.8)
    return DataSplit("mnist1d", x_tr, y_tr, x_te, y_te, [str(d) for d in range(NUM_CLASSES)])


@DATASETS.register(
    "mnist1d", f"MNIST-1D (Greydanus 2020): 10 classes of {LENGTH}-long 1-D signals, generated offline; "
    f"{TRAIN_PER_CLASS}/class training pool (a CIFAR-10-LT-sized set), {TEST_PER_CLASS}/class balanced test, "
    f"{VAL_PER_CLASS}/class validation", shape=(LENGTH,), num_classes=NUM_CLASSES, kind="vector",
    augment="none", model="cnn1d", offline=True, signal=True, unlabelled=unlabelled_signals)
def load_mnist1d(data_dir: Path, seed: int = 0) -> DataSplit:
    """The first load generates 15,000 signals (seconds) and caches them in `<data_dir>/mnist1d/`."""
    return mnist1d_split(data_dir)
