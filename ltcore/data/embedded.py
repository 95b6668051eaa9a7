"""Data sets that need no files: scikit-learn's digits (the embedded default) and Gaussian mixtures."""
from __future__ import annotations

import math
from pathlib import Path

import torch

from .base import DATASETS, DataSplit
from .holdout import TEST_HOLDOUT_SEED, balanced_holdout, carve_validation

__all__ = ["TEST_HOLDOUT_SEED", "balanced_holdout"]  # re-exported: older imports read them here

DIGITS_HELDOUT_PER_CLASS = 50
DIGITS_VAL_PER_CLASS = 10
DIGITS_TEST_PER_CLASS = DIGITS_HELDOUT_PER_CLASS - DIGITS_VAL_PER_CLASS


@DATASETS.register(
    "digits", "scikit-learn handwritten digits, 8×8 grey, 10 classes; offline default "
    f"({DIGITS_TEST_PER_CLASS}/class balanced test, {DIGITS_VAL_PER_CLASS}/class validation)",
    shape=(1, 8, 8), num_classes=10, kind="image", augment="none", model="cnn", offline=True)
def load_digits(data_dir: Path, seed: int = 0) -> DataSplit:
    """1797 images, 174–183 per class. 50 per class are held out (the same 50 as before there was a
    validation split, so every digits-LT training set is unchanged); of those, 10 per class are the
    validation split and 40 per class the test set. Too few images for more: a larger validation
    split would shrink the test set (400 images) or the training pool (n_max = 124)."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32)  # (1797, 8, 8), values 0..16
    x = (x * (255.0 / 16.0)).round().clamp(0, 255).to(torch.uint8).unsqueeze(1)
    y = torch.as_tensor(bunch.target, dtype=torch.long)
    tr, held = balanced_holdout(y, DIGITS_HELDOUT_PER_CLASS)
    x_te, y_te, x_va, y_va = carve_validation(x[held], y[held], DIGITS_VAL_PER_CLASS)
    xf = x[tr].float() / 255.0
    return DataSplit("digits", x[tr], y[tr], x_te, y_te, [str(d) for d in range(10)],
                     mean=(float(xf.mean()),), std=(float(xf.std()),), x_val=x_va, y_val=y_va)


UNLABELLED_SEED = 777
"""Base seed of the extra unlabelled draws (+ the run seed): never the seed of the splits above."""


def gaussian_means(num_classes: int, dim: int, gen: torch.Generator) -> torch.Tensor:
    """The mixture's class means: on a circle (2-D) or random unit directions × 3 (d-D, from `gen`)."""
    if dim == 2:
        ang = torch.arange(num_classes) * (2 * math.pi / num_classes)
        return 3.0 * torch.stack([ang.cos(), ang.sin()], 1)
    means = torch.randn(num_classes, dim, generator=gen)
    return 3.0 * means / means.norm(dim=1, keepdim=True)


def gaussian_unlabelled(num_classes: int, dim: int, counts: list[int], seed: int,
                        spread: float = 1.0) -> torch.Tensor:
    """Fresh points of the same mixture, counts[k] from class k, labels dropped (self-training's
    unlabelled pool): drawn with their own seed, so they are none of the training, validation or
    test points."""
    means = gaussian_means(num_classes, dim, torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(UNLABELLED_SEED + int(seed))
    y = torch.arange(num_classes).repeat_interleave(torch.as_tensor(counts, dtype=torch.long))
    return means[y] + spread * torch.randn(len(y), dim, generator=gen)


def gaussian_mixture(num_classes: int = 5, dim: int = 2, train_per_class: int = 500,
                     test_per_class: int = 1000, spread: float = 1.0,
                     val_per_class: int = 200) -> DataSplit:
    """K isotropic Gaussians, means on a circle (2-D) or at random unit directions × 3 (d-D).

    The distribution is fixed (seed 0) so every run sees the same problem; runs differ only in
    which training points their seed keeps. The validation split is a fresh balanced sample drawn
    after the training pool and the test set (so both are the same as without it).
    """
    gen = torch.Generator().manual_seed(0)
    means = gaussian_means(num_classes, dim, gen)

    def sample(n):
        y = torch.arange(num_classes).repeat_interleave(n)
        return means[y] + spread * torch.randn(len(y), dim, generator=gen), y

    x_tr, y_tr = sample(train_per_class)
    x_te, y_te = sample(test_per_class)
    x_va, y_va = sample(val_per_class)
    return DataSplit(f"gaussians{'' if dim == 2 else '_hd'}", x_tr, y_tr, x_te, y_te,
                     [f"c{k}" for k in range(num_classes)], x_val=x_va, y_val=y_va)


@DATASETS.register(
    "gaussians", "synthetic 5-class Gaussian mixture in 2-D (decision regions, geometry); "
    "1000/class balanced test", shape=(2,), num_classes=5, kind="vector", augment="none",
    model="mlp", offline=True, unlabelled=lambda counts, seed: gaussian_unlabelled(5, 2, counts, seed))
def load_gaussians(data_dir: Path, seed: int = 0) -> DataSplit:
    return gaussian_mixture(5, 2)


@DATASETS.register(
    "gaussians_hd", "synthetic 10-class Gaussian mixture in 32-D; 1000/class balanced test, "
    "200/class validation",
    shape=(32,), num_classes=10, kind="vector", augment="none", model="mlp", offline=True,
    unlabelled=lambda counts, seed: gaussian_unlabelled(10, 32, counts, seed))
def load_gaussians_hd(data_dir: Path, seed: int = 0) -> DataSplit:
    return gaussian_mixture(10, 32)


def image_tints(num_classes: int, shape: tuple, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(-40, 41, (num_classes, shape[0], 1, 1), generator=gen)


def synthetic_unlabelled(counts: list[int], seed: int, shape: tuple = (3, 32, 32)) -> torch.Tensor:
    """Fresh tinted images, counts[k] of class k, labels dropped (see `gaussian_unlabelled`)."""
    tint = image_tints(len(counts), shape, torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(UNLABELLED_SEED + int(seed))
    y = torch.arange(len(counts)).repeat_interleave(torch.as_tensor(counts, dtype=torch.long))
    x = torch.randint(60, 196, (len(y), *shape), generator=gen) + tint[y]
    return x.clamp(0, 255).to(torch.uint8)


def synthetic_images(num_classes: int = 10, train_per_class: int = 500, test_per_class: int = 100,
                     shape: tuple = (3, 32, 32), val_per_class: int = 50) -> DataSplit:
    """Random uint8 images with a class-dependent colour shift: CIFAR-shaped, learnable, no files.

    The validation split is drawn after the training pool and the test set (both unchanged by it).
    """
    gen = torch.Generator().manual_seed(0)
    tint = image_tints(num_classes, shape, gen)

    def sample(n):
        y = torch.arange(num_classes).repeat_interleave(n)
        x = torch.randint(60, 196, (len(y), *shape), generator=gen) + tint[y]
        return x.clamp(0, 255).to(torch.uint8), y

    x_tr, y_tr = sample(train_per_class)
    x_te, y_te = sample(test_per_class)
    x_va, y_va = sample(val_per_class)
    return DataSplit("synthetic_cifar", x_tr, y_tr, x_te, y_te, [f"c{k}" for k in range(num_classes)],
                     mean=(0.5,) * shape[0], std=(0.25,) * shape[0], x_val=x_va, y_val=y_va)


@DATASETS.register(
    "synthetic_cifar", "random CIFAR-shaped 3×32×32 images with class tints, 10 classes (benchmarks, "
    "smoke tests of the CIFAR pipeline offline); 100/class test, 50/class validation", shape=(3, 32, 32),
    num_classes=10, kind="image", augment="crop_flip", model="resnet32", offline=True,
    unlabelled=synthetic_unlabelled)
def load_synthetic_cifar(data_dir: Path, seed: int = 0, train_per_class: int = 500) -> DataSplit:
    return synthetic_images(train_per_class=train_per_class)


@DATASETS.register(
    "synthetic_cifar10", "random images with class tints at CIFAR-10's size: 5000/class train pool, "
    "1000/class test (the same work per epoch as CIFAR-10; GPU benchmarks offline)", shape=(3, 32, 32),
    num_classes=10, kind="image", augment="crop_flip", model="resnet32", offline=True,
    unlabelled=synthetic_unlabelled)
def load_synthetic_cifar10(data_dir: Path, seed: int = 0) -> DataSplit:
    split = synthetic_images(train_per_class=5000, test_per_class=1000)
    split.name = "synthetic_cifar10"
    return split
