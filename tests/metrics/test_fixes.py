""""Which fix helps on my data?" read from results: head/tail classes, paired Student-t intervals
and the verdict's sentences (issue 22 item 8)."""
import math
from types import SimpleNamespace

import pytest
from scipy import stats

from ltcore.metrics import fixes

COUNTS = [100, 30, 10, 5, 2]


def result(per_class, counts=COUNTS):
    return SimpleNamespace(per_class_acc=list(per_class), class_counts=counts,
                           balanced_acc=sum(per_class) / len(per_class))


def test_head_and_tail_are_the_most_and_least_frequent_thirds():
    assert fixes.head_tail(COUNTS) == ([0], [4])
    assert fixes.head_tail([5, 50, 500, 20, 1, 9]) == ([1, 2], [0, 4])
    assert fixes.head_tail([3, 7]) == ([1], [0])


def test_the_paired_interval_is_student_t_over_the_seeds():
    diffs = [10.0, 14.0, 12.0]
    mean, half = fixes.paired_interval(diffs)
    low, high = stats.ttest_1samp(diffs, 0).confidence_interval(0.95)
    assert mean == pytest.approx(12.0) and half == pytest.approx((high - low) / 2)
    assert fixes.paired_interval([3.0]) == (3.0, math.inf)


def test_the_verdict_names_the_best_fix_its_tail_gain_head_cost_and_its_equals():
    ce = {s: result([0.9 + 0.01 * s, 0.6, 0.4, 0.2, 0.0 + 0.02 * s]) for s in range(3)}
    runs = {"ce": ce,
            "balanced_softmax": {s: result([0.85 + 0.01 * s, 0.6, 0.5, 0.5, 0.3 + 0.03 * s]) for s in range(3)},
            "crt": {s: result([0.85 + 0.01 * s, 0.6, 0.5, 0.5, 0.3 + 0.03 * s + (-0.04, 0.05, -0.02)[s]])
                    for s in range(3)},
            "cbs": {s: result([0.9 + 0.01 * s, 0.6, 0.4, 0.2, 0.02 * s + 0.01 * (s == 1)]) for s in range(3)}}
    found, head, tail = fixes.effects(runs)
    assert [e.method for e in found] == ["cbs", "balanced_softmax", "crt"]   # FAMILIES order, ldam_drw absent
    assert (head, tail) == ([0], [4])
    bs = found[1]
    assert bs.tail.mean == pytest.approx(100 * (0.3 - 0.0 + 0.01)) and bs.tail.clear
    assert bs.head.mean == pytest.approx(-5.0) and bs.head.half == pytest.approx(0.0, abs=1e-9)
    lines = fixes.verdict(found, fixes.against_best(found, runs))
    assert lines[0].startswith("balanced_softmax (logit adjustment) raises balanced accuracy by +")
    assert "the tail by +31 ± " in lines[0] and "at a cost of 5 ± 0 on the head" in lines[0]
    assert lines[1] == "crt is not distinguishable from it."
    assert lines[2] == "cbs does clearly worse than it."


def test_no_fix_apart_from_ce_is_said_plainly():
    ce = {s: result([0.9, 0.5, 0.3, 0.2, 0.1 * s]) for s in range(3)}
    noisy = {s: result([0.9, 0.5, 0.3, 0.2, 0.1 * (2 - s) + 0.05]) for s in range(3)}
    found, _, _ = fixes.effects({"ce": ce, "ldam_drw": noisy})
    lines = fixes.verdict(found, fixes.against_best(found, {"ce": ce, "ldam_drw": noisy}))
    assert len(lines) == 1 and lines[0].startswith("No fix can be told apart from plain ce on this data over 3 seeds")
