"""Data sets that need no files: scikit-learn's digits (the embedded default) and Gaussian mixtures."""
from __future__ import annotations

import math
from pathlib import Path

import torch

from .base import DATASETS, DataSplit

DIGITS_TEST_PER_CLASS = 50
TEST_HOLDOUT_SEED = 12345  # the balanced test split is the same for every run seed


def balanced_holdout(labels: torch.Tensor, per_class: int, seed: int = TEST_HOLDOUT_SEED):
    """Split indices into (train pool, balanced test with `per_class` of each class)."""
    gen = torch.Generator().manual_seed(seed)
    test, train = [], []
    for k in range(int(labels.max()) + 1):
        idx = torch.nonzero(labels == k).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        test.append(idx[:per_class])
        train.append(idx[per_class:])
    return torch.cat(train).sort().values, torch.cat(test).sort().values


@DATASETS.register(
    "digits", "scikit-learn handwritten digits, 8×8 grey, 10 classes; offline default "
    f"({DIGITS_TEST_PER_CLASS}/class balanced test)",
    shape=(1, 8, 8), num_classes=10, kind="image", augment="none", model="cnn", offline=True)
def load_digits(data_dir: Path, seed: int = 0) -> DataSplit:
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32)  # (1797, 8, 8), values 0..16
    x = (x * (255.0 / 16.0)).round().clamp(0, 255).to(torch.uint8).unsqueeze(1)
    y = torch.as_tensor(bunch.target, dtype=torch.long)
    tr, te = balanced_holdout(y, DIGITS_TEST_PER_CLASS)
    xf = x[tr].float() / 255.0
    return DataSplit("digits", x[tr], y[tr], x[te], y[te], [str(d) for d in range(10)],
                     mean=(float(xf.mean()),), std=(float(xf.std()),))


def gaussian_mixture(num_classes: int = 5, dim: int = 2, train_per_class: int = 500,
                     test_per_class: int = 1000, spread: float = 1.0) -> DataSplit:
    """K isotropic Gaussians, means on a circle (2-D) or at random unit directions × 3 (d-D).

    The distribution is fixed (seed 0) so every run sees the same problem; runs differ only in
    which training points their seed keeps.
    """
    gen = torch.Generator().manual_seed(0)
    if dim == 2:
        ang = torch.arange(num_classes) * (2 * math.pi / num_classes)
        means = 3.0 * torch.stack([ang.cos(), ang.sin()], 1)
    else:
        means = torch.randn(num_classes, dim, generator=gen)
        means = 3.0 * means / means.norm(dim=1, keepdim=True)

    def sample(n):
        y = torch.arange(num_classes).repeat_interleave(n)
        return means[y] + spread * torch.randn(len(y), dim, generator=gen), y

    x_tr, y_tr = sample(train_per_class)
    x_te, y_te = sample(test_per_class)
    return DataSplit(f"gaussians{'' if dim == 2 else '_hd'}", x_tr, y_tr, x_te, y_te,
                     [f"c{k}" for k in range(num_classes)])


@DATASETS.register(
    "gaussians", "synthetic 5-class Gaussian mixture in 2-D (decision regions, geometry); "
    "1000/class balanced test", shape=(2,), num_classes=5, kind="vector", augment="none",
    model="mlp", offline=True)
def load_gaussians(data_dir: Path, seed: int = 0) -> DataSplit:
    return gaussian_mixture(5, 2)


@DATASETS.register(
    "gaussians_hd", "synthetic 10-class Gaussian mixture in 32-D; 1000/class balanced test",
    shape=(32,), num_classes=10, kind="vector", augment="none", model="mlp", offline=True)
def load_gaussians_hd(data_dir: Path, seed: int = 0) -> DataSplit:
    return gaussian_mixture(10, 32)


def synthetic_images(num_classes: int = 10, train_per_class: int = 500, test_per_class: int = 100,
                     shape: tuple = (3, 32, 32)) -> DataSplit:
    """Random uint8 images with a class-dependent colour shift: CIFAR-shaped, learnable, no files."""
    gen = torch.Generator().manual_seed(0)
    tint = torch.randint(-40, 41, (num_classes, shape[0], 1, 1), generator=gen)

    def sample(n):
        y = torch.arange(num_classes).repeat_interleave(n)
        x = torch.randint(60, 196, (len(y), *shape), generator=gen) + tint[y]
        return x.clamp(0, 255).to(torch.uint8), y

    x_tr, y_tr = sample(train_per_class)
    x_te, y_te = sample(test_per_class)
    return DataSplit("synthetic_cifar", x_tr, y_tr, x_te, y_te, [f"c{k}" for k in range(num_classes)],
                     mean=(0.5,) * shape[0], std=(0.25,) * shape[0])


@DATASETS.register(
    "synthetic_cifar", "random CIFAR-shaped 3×32×32 images with class tints, 10 classes (benchmarks, "
    "smoke tests of the CIFAR pipeline offline)", shape=(3, 32, 32), num_classes=10, kind="image",
    augment="crop_flip", model="resnet32", offline=True)
def load_synthetic_cifar(data_dir: Path, seed: int = 0, train_per_class: int = 500) -> DataSplit:
    return synthetic_images(train_per_class=train_per_class)


@DATASETS.register(
    "synthetic_cifar10", "random images with class tints at CIFAR-10's size: 5000/class train pool, "
    "1000/class test (the same work per epoch as CIFAR-10; GPU benchmarks offline)", shape=(3, 32, 32),
    num_classes=10, kind="image", augment="crop_flip", model="resnet32", offline=True)
def load_synthetic_cifar10(data_dir: Path, seed: int = 0) -> DataSplit:
    split = synthetic_images(train_per_class=5000, test_per_class=1000)
    split.name = "synthetic_cifar10"
    return split
