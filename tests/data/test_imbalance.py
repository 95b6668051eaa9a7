"""Imbalance profiles: the published CIFAR-LT sizes, step profile, determinism of the subset."""
import pytest
import torch

from ltcore.data import class_counts, draw_subset, load_split, make_longtail
from ltcore.errors import ConfigError


@pytest.mark.parametrize("classes,n_max,ratio,total,tail", [
    (10, 5000, 100, 12406, 50), (10, 5000, 50, 13996, 100), (10, 5000, 10, 20431, 500),
    (100, 500, 100, 10847, 5), (100, 500, 50, 12608, 10), (100, 500, 10, 19573, 50),
])
def test_exp_profile_matches_ldam_drw_training_set_sizes(classes, n_max, ratio, total, tail):
    counts = class_counts(classes, n_max, ratio)
    assert sum(counts) == total
    assert counts[0] == n_max and counts[-1] == tail
    assert counts == sorted(counts, reverse=True)


def test_step_profile_keeps_majority_at_max_and_minority_at_max_over_ratio():
    assert class_counts(10, 5000, 100, "step") == [5000] * 5 + [50] * 5
    assert class_counts(10, 5000, 10, "step", minority_fraction=0.2) == [5000] * 8 + [500] * 2


def test_none_profile_is_balanced():
    assert class_counts(4, 30, 100, "none") == [30, 30, 30, 30]


@pytest.mark.parametrize("kwargs", [dict(ratio=0.5), dict(ratio=float("inf")), dict(profile="zipf"),
                                    dict(minority_fraction=1.5)])
def test_bad_profile_arguments_raise_a_clear_error(kwargs):
    args = dict(num_classes=10, max_count=100, ratio=10) | kwargs
    with pytest.raises(ConfigError):
        class_counts(**args)


def test_subset_is_identical_for_identical_inputs_and_differs_with_seed():
    split = load_split("digits")
    a = make_longtail(split, "exp", 50, seed=3)
    b = make_longtail(load_split("digits"), "exp", 50, seed=3)
    c = make_longtail(split, "exp", 50, seed=4)
    assert torch.equal(a.train_idx, b.train_idx)
    assert not torch.equal(a.train_idx, c.train_idx)
    assert a.counts == c.counts
    assert torch.bincount(a.y_train, minlength=10).tolist() == a.counts


def test_digits_long_tail_has_requested_ratio_and_untouched_balanced_test_set():
    lt = make_longtail(load_split("digits"), "exp", 50, seed=0)
    assert lt.counts[0] // lt.counts[-1] == pytest.approx(50, rel=0.3)
    assert set(torch.bincount(lt.split.y_test).tolist()) == {40}
    assert set(torch.bincount(lt.split.y_val).tolist()) == {10}


def test_draw_subset_caps_at_what_a_class_has():
    labels = torch.tensor([0, 0, 0, 1])
    idx = draw_subset(labels, [2, 5], seed=0)
    assert torch.bincount(labels[idx]).tolist() == [2, 1]


def test_gini_of_class_sizes_by_hand():
    from ltcore.data.imbalance import gini

    assert gini([7, 7, 7]) == 0.0                     # balanced
    assert gini([3, 1]) == 0.25                       # (|3−1| + |1−3|) / (2·2·4)
    assert gini([1, 0, 0, 0]) == 0.75                 # one class holds everything: (K−1)/K


def test_digits_cannot_reach_rho_100_or_200_and_the_core_says_so():
    split = load_split("digits")                       # 124 images in the class the profile starts from
    for asked in (100, 200):
        lt = make_longtail(split, "exp", asked, seed=0)
        assert lt.actual_ratio == 124.0 and max(lt.counts) == 124 and min(lt.counts) == 1
        assert lt.ratio_note.startswith(f"ρ = {asked} asked, but this data gives 124×")
    assert "124× is the most it can give" in make_longtail(split, "exp", 200).ratio_note
    assert "62× or 124×" in make_longtail(split, "exp", 100).ratio_note
    assert make_longtail(split, "exp", 10).ratio_note is None           # 124/12 = 10.3: within 5 %
    assert make_longtail(split, "none", 100).ratio_note is None


def test_real_ratio_ignores_empty_classes_and_shortfall_is_silent_when_the_ratio_holds():
    from ltcore.data.imbalance import ratio_shortfall, real_ratio

    assert real_ratio([500, 50, 0, 5]) == 100.0
    assert ratio_shortfall([500, 50, 5], 100) is None
    assert "most it can give" in ratio_shortfall([20, 5, 1], 50)
