"""ltcore.metrics.statistics against scipy.stats on fixed inputs."""
import math

import numpy as np
import pytest
from scipy import stats

from ltcore.metrics.statistics import (NOT_DISTINGUISHABLE, Interval, average_ranks, bootstrap_difference,
                                       mean_interval, paired_difference, rank_ranges, spearman, t_cdf,
                                       t_quantile, verdict, wilson_interval)


@pytest.mark.parametrize("df", [1, 2, 4, 9, 29, 200])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995])
def test_t_quantile_and_cdf_match_scipy(p, df):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9, abs=1e-9)
    assert t_quantile(1 - p, df) == pytest.approx(stats.t.ppf(1 - p, df), rel=1e-9, abs=1e-9)
    assert t_cdf(1.7, df) == pytest.approx(stats.t.cdf(1.7, df), abs=1e-12)


def test_mean_interval_is_scipys_t_interval():
    values = [71.2, 73.9, 72.4, 70.8, 74.1]
    ours = mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert (ours.low, ours.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert ours.n == 5
    assert mean_interval([3.0]).low is None and mean_interval([]) is None


def test_paired_difference_is_scipys_paired_t_over_shared_seeds():
    a = {0: 0.752, 1: 0.771, 2: 0.748, 3: 0.760}
    b = {0: 0.731, 1: 0.744, 2: 0.741, 7: 0.9}          # seed 3 and 7 unpaired: left out
    ours = paired_difference(a, b)
    res = stats.ttest_rel([a[s] for s in (0, 1, 2)], [b[s] for s in (0, 1, 2)])
    ci = res.confidence_interval(0.95)
    assert ours.n == 3 and ours.method == "paired t over seeds"
    assert ours.estimate == pytest.approx(np.mean([a[s] - b[s] for s in (0, 1, 2)]))
    assert (ours.low, ours.high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))
    assert ours.distinguishable == bool(res.pvalue < 0.05)


def test_noisy_pairs_are_marked_not_distinguishable():
    ours = paired_difference({0: 0.70, 1: 0.76, 2: 0.71}, {0: 0.72, 1: 0.71, 2: 0.70})
    assert ours.low < 0 < ours.high and ours.distinguishable is False
    assert NOT_DISTINGUISHABLE in verdict(ours)
    one = paired_difference({0: 0.7}, {0: 0.6})
    assert one.low is None and one.distinguishable is None and "no interval" in verdict(one)
    assert paired_difference({0: 0.7}, {1: 0.6}) is None


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (1, 2), (3, 7), (12, 19), (95, 100)])
def test_wilson_interval_matches_scipy(k, n):
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)
    assert wilson_interval(0, 0) is None


def test_bootstrap_over_test_images_agrees_with_scipys_percentile_bootstrap():
    """One class (so stratification changes nothing): our interval of one run's accuracy minus a
    constant-0 run is scipy's percentile bootstrap of the mean of the 0/1 correctness vector."""
    correct, n = 27, 40
    ours = bootstrap_difference([correct], [0], [n], resamples=20000, seed=1)
    data = np.r_[np.ones(correct), np.zeros(n - correct)]
    ref = stats.bootstrap((data,), np.mean, n_resamples=20000, method="percentile",
                          random_state=np.random.default_rng(2)).confidence_interval
    assert ours.estimate == pytest.approx(correct / n)
    assert ours.low == pytest.approx(ref.low, abs=0.02) and ours.high == pytest.approx(ref.high, abs=0.02)


def test_bootstrap_of_one_test_image_per_class_cannot_tell_runs_apart():
    """The practitioner's folder: 1 test image per class, per-class accuracy 0 or 100 % (a class-
    stratified bootstrap would give a zero-width interval here)."""
    ours = bootstrap_difference([1, 1, 0, 1, 0], [1, 0, 0, 1, 1], [1] * 5, resamples=4000)
    assert ours.estimate == pytest.approx(0.0)
    assert ours.low <= -0.2 and ours.high >= 0.2 and ours.distinguishable is False
    big = bootstrap_difference([380, 390], [300, 310], [400, 400])
    assert big.distinguishable is True


def test_average_ranks_and_spearman_match_scipy():
    vals = [3.0, 1.0, 3.0, 2.0, 5.0]
    assert average_ranks(vals, descending=False) == list(stats.rankdata(vals))
    assert average_ranks(vals) == list(stats.rankdata([-v for v in vals]))
    a, b = [70.4, 68.3, 71.6, 75.2, 77.5, 73.7], [1.0, 3.0, 2.0, 6.0, 5.0, 4.0]
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)


def test_rank_ranges_show_ties_over_seeds():
    scores = {"ce": {0: 70, 1: 72, 2: 71}, "bs": {0: 75, 1: 71, 2: 76}, "mixup": {0: 60, 1: 61, 2: 62}}
    ranks = rank_ranges(scores)
    assert ranks["bs"].rank == 1 and (ranks["bs"].best, ranks["bs"].worst) == (1, 2)
    assert ranks["ce"].label() == "2 (1–2)"
    assert ranks["mixup"].label() == "3"


def test_interval_distinguishable_property():
    assert Interval(0.1, 0.05, 0.15, 3, "paired t over seeds").distinguishable is True
    assert Interval(0.1, -0.05, 0.25, 3, "paired t over seeds").distinguishable is False
    assert math.isclose(Interval(0.1, -0.05, 0.25, 3, "x").half_width, 0.15)
