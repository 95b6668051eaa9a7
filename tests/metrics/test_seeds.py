"""Seeds as error bars: grouping by everything but the seed, mean ± sample std by hand."""
import statistics

import pytest

from ltcore import Config, RunResult
from ltcore.metrics.seeds import group_by_seed, history_band, mean_std, seed_key, summarise_seeds


def result(config, per_class, shots, balanced):
    metrics = {"per_class_acc": per_class, "shot_acc": shots, "balanced_acc": balanced,
               "overall_acc": balanced, "shot_rule": "terciles"}
    return RunResult(config, "done", "cpu", ["a", "b"], [10, 1], metrics, [], 1.0, 3)


def test_runs_that_differ_only_by_seed_form_one_group_in_seed_order():
    a0, a1, a2 = (Config(method="ce", seed=s) for s in (0, 1, 2))
    b0 = Config(method="cbs", seed=0)
    c1 = Config(method="ce", seed=1, ratio=10)         # another ratio: another experiment
    configs = [a2, b0, a0, c1, a1, a0]                  # a0 twice: kept once
    assert group_by_seed(configs) == [[2, 4, 0], [1], [3]]
    assert seed_key(a0) == seed_key(a2) != seed_key(b0)


def test_mean_and_sample_std_skip_undefined_values():
    assert mean_std([0.5, 0.7, None, float("nan")]) == pytest.approx((0.6, statistics.stdev([0.5, 0.7])))
    assert mean_std([0.4]) == (0.4, 0.0) and mean_std([None]) == (None, None)


def test_summary_holds_per_class_shot_and_headline_mean_and_std():
    runs = [result(Config(seed=s), pc, {"many": m, "few": f}, bal)
            for s, pc, m, f, bal in ((0, [1.0, 0.2], 1.0, 0.2, 0.6), (1, [0.8, 0.4], 0.8, 0.4, 0.6),
                                     (2, [0.9, 0.0], 0.9, 0.0, 0.45))]
    s = summarise_seeds(runs)
    assert s.seeds == [0, 1, 2] and s.n == 3
    assert s.per_class_acc == pytest.approx([0.9, 0.2])
    assert s.std["per_class_acc"] == pytest.approx([0.1, 0.2])
    assert s.shot_acc["few"] == pytest.approx(0.2) and s.std["shot_acc"]["few"] == pytest.approx(0.2)
    assert (s.balanced_acc == pytest.approx(0.55)
            and s.std["balanced_acc"] == pytest.approx(statistics.stdev([0.6, 0.6, 0.45])))
    assert s.shot_rule == "terciles" and s.class_counts == [10, 1]


def test_history_band_is_mean_plus_minus_std_per_epoch_over_the_seeds_that_reached_it():
    h = [[{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}], [{"epoch": 1, "loss": 3.0}]]
    band = history_band(h, "loss")
    assert band["epoch"] == [1, 2] and band["mean"] == [2.0, 0.5] and band["n"] == [2, 1]
    assert band["std"] == pytest.approx([2 ** 0.5, 0.0])
    assert band["low"][0] == pytest.approx(2 - 2 ** 0.5) and band["high"][1] == 0.5
