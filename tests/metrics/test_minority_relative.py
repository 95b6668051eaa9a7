"""Minority-collapse view data (Fang et al. PNAS'21) and relative accuracy (Zhang et al. §4.1)."""
import math

import pytest
import torch

from ltcore import Config, LTError
from ltcore.metrics import minority_collapse, reference_configs, relative_accuracy
from ltcore.sweep import relative_accuracy_for
from ltcore.result import RunResult
from ltcore.engine.trainer import prepare_data


def test_minority_collapse_sorted_norms_and_tail_cosines():
    counts = [10, 100, 5, 50]                                         # order by frequency: 1, 3, 0, 2
    w = torch.tensor([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-2.0, 0.0]])
    out = minority_collapse(counts, w, mean_norms=[0.5, 4.0, 0.25, 2.0])
    assert out["order"] == [1, 3, 0, 2] and out["counts_sorted"] == [100, 50, 10, 5]
    assert out["tail"] == [0, 2] and out["head"] == [1, 3]
    assert out["weight_norms_sorted"] == pytest.approx([3.0, 2.0, 1.0, math.sqrt(2)])
    assert out["mean_norms_sorted"] == [4.0, 2.0, 0.5, 0.25]
    # rows 0 and 2 are 45° apart; head rows 1 and 3 are 90° apart
    assert out["tail_cosine"][0][1] == pytest.approx(1 / math.sqrt(2))
    assert out["tail_angle_deg"][0][1] == pytest.approx(45.0)
    assert out["mean_cos_tail"] == pytest.approx(1 / math.sqrt(2))
    assert out["mean_cos_head"] == pytest.approx(0.0)
    # head×tail pairs: (1,0) 0, (1,2) 1/√2, (3,0) −1, (3,2) −1/√2 → mean −1/4
    assert out["mean_cos_head_tail"] == pytest.approx(-0.25)


def test_minority_collapse_without_classifier():
    out = minority_collapse([3, 2, 1], None, tail=[2])
    assert out["tail"] == [2] and out["tail_cosine"] is None and out["tail_rule"] == "given"


def test_relative_accuracy_uses_the_better_reference():
    out = relative_accuracy(0.6, a_v=0.8, a_b=0.75)
    assert out["value"] == pytest.approx(0.75) and out["upper_reference"] == "plain_ce_balanced"
    assert out["used"] == ["method_balanced", "plain_ce_balanced"]
    one = relative_accuracy(0.6, a_b=0.5)
    assert one["value"] == pytest.approx(1.2) and one["used"] == ["method_balanced"]
    with pytest.raises(LTError):
        relative_accuracy(0.6)


def test_reference_configs_are_balanced_and_same_size():
    cfg = Config(method="ce", ratio=20, method_params={"x": 1})
    plain, method = reference_configs(cfg)
    assert plain.balanced_total and method.balanced_total
    assert plain.method == "ce" and plain.method_params == () and method.method_params == (("x", 1),)
    assert plain.ratio == cfg.ratio and plain.seed == cfg.seed
    lt, bal = prepare_data(Config(ratio=20)), prepare_data(Config(ratio=20).replace(balanced_total=True))
    assert len(set(bal.counts)) == 1 and sum(bal.counts) == sum(lt.counts) // len(lt.counts) * len(lt.counts)


def fake_result(config, acc):
    return RunResult(config, "done", "cpu", [], [], {"balanced_acc": acc}, [], 0.0, 1)


def test_relative_accuracy_for_trains_missing_references_once():
    calls = []

    def train_fn(cfg):
        calls.append(cfg)
        return fake_result(cfg, 0.9)

    lt = fake_result(Config(method="ce", ratio=20), 0.72)
    out = relative_accuracy_for(lt, train_fn=train_fn)
    assert len(calls) == 1 and calls[0].balanced_total                # CE: one run serves both references
    assert (out["value"] == pytest.approx(0.8)
            and set(out["reference_run_ids"]) == {"plain_ce_balanced", "method_balanced"})
    given = relative_accuracy_for(lt, {"plain_ce_balanced": 0.8, "method_balanced": {"balanced_acc": 0.96}},
                                  train_fn=train_fn)
    assert len(calls) == 1 and given["value"] == pytest.approx(0.75) and given["upper_reference"] == "method_balanced"
    relative_accuracy_for(fake_result(Config(method="focal"), 0.7), train_fn=train_fn)
    assert [c.method for c in calls[1:]] == ["ce", "focal"]          # other methods: two references
    with pytest.raises(LTError, match="already balanced"):
        relative_accuracy_for(fake_result(Config(balanced_total=True), 0.5), train_fn=train_fn)
