"""evaluate_logits against a hand-worked 3-class example (numbers derived in the comments)."""
import json
import math

import pytest
import torch

from ltcore.metrics import evaluate_logits, expected_calibration_error, geometric_mean_recall, shot_groups

# true labels and predicted class with its max-softmax confidence
LABELS = [0, 0, 0, 0, 1, 1, 2, 2]
PREDS = [0, 0, 0, 1, 1, 0, 2, 0]
CONF = [0.9, 0.9, 0.9, 0.62, 0.62, 0.5, 0.95, 0.42]


def logits_for(preds, conf, k=3):
    """log-probabilities whose softmax puts `conf` on the predicted class, the rest spread evenly."""
    rows = []
    for p, c in zip(preds, conf):
        probs = [(1 - c) / (k - 1)] * k
        probs[p] = c
        rows.append([math.log(q) for q in probs])
    return torch.tensor(rows, dtype=torch.float64)


@pytest.fixture(scope="module")
def report():
    return evaluate_logits(logits_for(PREDS, CONF), torch.tensor(LABELS), [200, 50, 5])


def test_accuracies_and_shots(report):
    assert report["overall_acc"] == pytest.approx(5 / 8)
    # recalls 3/4, 1/2, 1/2
    assert report["per_class_acc"] == pytest.approx([0.75, 0.5, 0.5])
    assert report["balanced_acc"] == pytest.approx((0.75 + 0.5 + 0.5) / 3)
    assert report["shot_groups"] == ["many", "medium", "few"]
    assert report["shot_acc"] == pytest.approx({"many": 0.75, "medium": 0.5, "few": 0.5})
    assert report["shot_rule"].startswith("thresholds")
    assert report["test_counts"] == [4, 2, 2]


def test_precision_recall_f1_confusion(report):
    assert report["confusion_matrix"] == [[3, 1, 0], [1, 1, 0], [1, 0, 1]]
    assert report["confusion_matrix_normalized"] == [[0.75, 0.25, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]]
    # precision = column-wise: 3/5, 1/2, 1/1
    assert report["per_class_precision"] == pytest.approx([0.6, 0.5, 1.0])
    assert report["per_class_recall"] == pytest.approx([0.75, 0.5, 0.5])
    # F1 = 2PR/(P+R): 0.9/1.35, 0.5, 1/1.5
    assert report["per_class_f1"] == pytest.approx([2 / 3, 0.5, 2 / 3])
    assert report["macro_f1"] == pytest.approx(11 / 18)
    assert report["pred_counts"] == [5, 2, 1]
    assert report["gmean_recall"] == pytest.approx((0.75 * 0.5 * 0.5) ** (1 / 3))


def test_ece_and_reliability_bins(report):
    # bins of width 1/15: 0.9→13 (3 right), 0.62→9 (1 of 2), 0.5→7 (0), 0.95→14 (1), 0.42→6 (0)
    # Σ |B|·|acc − conf| = 3·0.1 + 2·0.12 + 0.5 + 0.05 + 0.42 = 1.51 → ECE = 1.51 / 8
    assert report["ece"] == pytest.approx(0.18875, abs=1e-6)
    bins = report["reliability"]
    assert len(bins["edges"]) == 16 and bins["edges"][0] == 0 and bins["edges"][-1] == 1
    assert bins["count"] == [0] * 6 + [1, 1, 0, 2, 0, 0, 0, 3, 1]
    assert bins["accuracy"][9] == 0.5 and bins["accuracy"][13] == 1.0 and bins["accuracy"][0] is None
    assert bins["confidence"][9] == pytest.approx(0.62, abs=1e-6)


def test_ece_perfect_calibration_is_zero():
    # confidence 0.75 on 4 samples of which 3 are right: acc = conf in the one bin
    ece, _ = expected_calibration_error(logits_for([0, 0, 0, 0], [0.75] * 4), torch.tensor([0, 0, 0, 1]))
    assert ece == pytest.approx(0.0, abs=1e-9)


def test_absent_class_is_none_and_json_safe():
    out = evaluate_logits(logits_for([0, 1, 1], [0.8] * 3), torch.tensor([0, 1, 0]), [30, 20, 10])
    assert out["per_class_acc"][2] is None and out["per_class_recall"][2] is None
    assert out["per_class_precision"][2] is None and out["per_class_f1"][2] is None
    assert out["confusion_matrix_normalized"][2] == [None, None, None]
    assert out["balanced_acc"] == pytest.approx((0.5 + 1.0) / 2)
    json.dumps(out, allow_nan=False)


def test_gmean_zero_when_a_class_is_never_right():
    assert geometric_mean_recall([0.9, 0.0, 0.5]) == 0.0
    assert geometric_mean_recall([0.25, 1.0, None]) == pytest.approx(0.5)


def test_tercile_fallback_and_configurable_thresholds():
    groups, rule = shot_groups([90, 50, 30, 10, 5, 2])
    assert groups == ["many", "many", "medium", "medium", "few", "few"] and "terciles" in rule
    groups, rule = shot_groups([90, 50, 30, 10, 5, 2], many=40, few=8)
    assert groups == ["many", "many", "medium", "medium", "few", "few"] and "many > 40" in rule
    out = evaluate_logits(logits_for([0, 1], [0.9, 0.9]), torch.tensor([0, 1]), [90, 50, 30], many=60, few=40)
    assert out["shot_groups"] == ["many", "medium", "few"] and out["shot_thresholds"] == {"many": 60, "few": 40}


def test_two_classes_split_into_head_many_and_tail_few():
    from ltcore.metrics import shot_groups
    groups, rule = shot_groups([10, 60])
    assert groups == ["few", "many"] and "terciles" in rule
