"""Balanced held-out splits: the test set (for reporting) and the validation split (for choosing).

Every data set has three parts: the training pool (the long-tailed training set is drawn from it
with the run's seed), a balanced **validation** split and a balanced **test** set. The validation
split is never taken from the training pool a long-tailed subset is drawn from: it is carved from
the balanced held-out pool (the images set aside for testing, before the test set is fixed) or,
for generated data, drawn fresh from the same distribution. Hyper-parameters that need data —
τ of τ-normalisation (Kang et al. ICLR'20, §4: "tuned on a validation set"), τ of post-hoc logit
adjustment (Menon et al. ICLR'21), a sweep's objective — are chosen on it, so the test set stays
untouched for reporting.

Both splits use fixed seeds, independent of the run seed: every run of a data set, whatever its
seed, is chosen on the same validation images and reported on the same test images.
"""
from __future__ import annotations

import torch

TEST_HOLDOUT_SEED = 12345   # the balanced test split is the same for every run seed
VAL_HOLDOUT_SEED = 54321    # so is the balanced validation split
VAL_FRACTION = 0.1          # of a balanced held-out pool, per class, when nothing else is said
VAL_MAX_PER_CLASS = 100


def balanced_holdout(labels: torch.Tensor, per_class: int, seed: int = TEST_HOLDOUT_SEED):
    """Split indices into (rest, balanced holdout with `per_class` of each class), both sorted."""
    gen = torch.Generator().manual_seed(seed)
    held, rest = [], []
    for k in range(int(labels.max()) + 1 if len(labels) else 0):
        idx = torch.nonzero(labels == k).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        held.append(idx[:per_class])
        rest.append(idx[per_class:])
    empty = torch.zeros(0, dtype=torch.long)
    return (torch.cat(rest).sort().values if rest else empty,
            torch.cat(held).sort().values if held else empty)


def validation_per_class(pool_per_class: int) -> int:
    """Validation images per class carved from a balanced pool of `pool_per_class`: 10% of it,
    at most 100 (CIFAR-10: 100 of 1000; CIFAR-100: 10 of 100; MNIST: 89 of 892), and at least
    one when the pool has two or more (so the test set always keeps at least one per class)."""
    if pool_per_class < 2:
        return 0
    return max(1, min(int(VAL_FRACTION * pool_per_class), VAL_MAX_PER_CLASS))


def carve_validation(x: torch.Tensor, y: torch.Tensor, per_class: int | None = None):
    """Split a balanced held-out pool into (x_test, y_test, x_val, y_val), both balanced.

    `per_class` validation images of each class (default `validation_per_class` of the smallest
    class in the pool) go to validation, drawn with VAL_HOLDOUT_SEED; the rest is the test set.
    """
    if len(y) == 0:
        return x, y, x[:0], y[:0]
    if per_class is None:
        per_class = validation_per_class(int(torch.bincount(y).min()))
    test, val = balanced_holdout(y, per_class, VAL_HOLDOUT_SEED)
    return x[test], y[test], x[val], y[val]
