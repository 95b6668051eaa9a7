"""The balanced validation split: on every offline data set, balanced, apart from training and
test, the same for every run seed."""
import pytest
import torch

from ltcore.data import DATASETS, load_split
from ltcore.data.holdout import TEST_HOLDOUT_SEED, balanced_holdout, carve_validation, validation_per_class

OFFLINE = [n for n in DATASETS.names() if DATASETS.get(n).meta.get("offline")]


def rows(x: torch.Tensor) -> set:
    """One fingerprint per sample (a fixed random projection of its values)."""
    w = torch.randn(x[0].numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return set((x.flatten(1).double() @ w).tolist())


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("synthetic_cifar") else n
                                  for n in OFFLINE])
def test_every_offline_data_set_has_a_balanced_validation_split_apart_from_train_and_test(name, tmp_path):
    split = load_split(name, tmp_path)
    val_counts = torch.bincount(split.y_val, minlength=split.num_classes).tolist()
    assert min(val_counts) >= 10 and len(set(val_counts)) == 1, val_counts
    assert split.x_val.shape[1:] == split.x_train.shape[1:] and split.x_val.dtype == split.x_train.dtype
    if name != "digits":  # digits has repeated 8×8 images; its disjointness is tested by index below
        assert not rows(split.x_val) & rows(split.x_test)
        assert not rows(split.x_val) & rows(split.x_train)
    again = load_split(name, tmp_path, seed=7)  # the run seed never moves the held-out splits
    assert torch.equal(again.x_val, split.x_val) and torch.equal(again.x_test, split.x_test)


def test_digits_validation_is_carved_from_the_same_held_out_pool_as_before():
    """The 50 held-out images per class are unchanged (so is every digits-LT training set); 10 of
    each class are validation and 40 the test set."""
    from sklearn.datasets import load_digits

    split = load_split("digits")
    y = torch.as_tensor(load_digits().target)
    pool, held = balanced_holdout(y, 50, TEST_HOLDOUT_SEED)
    assert torch.equal(split.y_train, y[pool])
    assert torch.bincount(split.y_test).tolist() == [40] * 10
    assert torch.bincount(split.y_val).tolist() == [10] * 10
    assert len(split.y_train) + len(split.y_test) + len(split.y_val) == len(y) == 1797


def test_carving_takes_per_class_from_the_pool_and_keeps_the_rest_as_test():
    y = torch.arange(3).repeat_interleave(20)
    x = torch.arange(60).float()[:, None]
    x_te, y_te, x_va, y_va = carve_validation(x, y, 4)
    assert torch.bincount(y_va).tolist() == [4, 4, 4] and torch.bincount(y_te).tolist() == [16] * 3
    assert sorted(x_te.flatten().tolist() + x_va.flatten().tolist()) == list(range(60))
    assert torch.equal((x_va.flatten() // 20).long(), y_va)  # each image keeps its label
    assert [validation_per_class(n) for n in (1, 2, 50, 892, 1000, 5000)] == [0, 1, 5, 89, 100, 100]
