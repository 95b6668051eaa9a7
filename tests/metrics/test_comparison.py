"""ltcore.metrics.comparison: a configuration's change against the baseline from runs (paired t
over shared seeds, else a bootstrap over test images), Wilson intervals and the small-test warning."""
from types import SimpleNamespace

import pytest
from scipy import stats

from ltcore.metrics.comparison import change, class_wilson, group_test_counts, small_test_set


def run(seed, per_class, test=(10, 10, 10)):
    correct = [round(a * n) for a, n in zip(per_class, test)]
    cm = [[c if i == k else 0 for i in range(len(test))] for k, c in enumerate(correct)]
    for k, (c, n) in enumerate(zip(correct, test)):
        cm[k][(k + 1) % len(test)] += n - c
    metrics = {"per_class_acc": list(per_class), "balanced_acc": sum(per_class) / len(per_class),
               "test_counts": list(test), "confusion_matrix": cm, "shot_groups": ["many", "medium", "few"]}
    return SimpleNamespace(config=SimpleNamespace(seed=seed), metrics=metrics, per_class_acc=list(per_class),
                           balanced_acc=metrics["balanced_acc"])


def test_change_over_shared_seeds_is_the_paired_t_interval():
    method = [run(0, (0.9, 0.5, 0.3)), run(1, (0.9, 0.6, 0.4)), run(2, (0.8, 0.6, 0.2))]
    base = [run(0, (0.9, 0.4, 0.1)), run(1, (1.0, 0.4, 0.1)), run(2, (0.9, 0.5, 0.1))]
    ci = change(method, base)
    diffs = [m.balanced_acc - b.balanced_acc for m, b in zip(method, base)]
    ref = stats.ttest_rel([m.balanced_acc for m in method], [b.balanced_acc for b in base]).confidence_interval()
    assert ci.method == "paired t over seeds" and ci.estimate == pytest.approx(sum(diffs) / 3)
    assert (ci.low, ci.high) == (pytest.approx(ref.low), pytest.approx(ref.high))
    few = change(method, base, k=2)                       # one class: its own paired interval
    assert few.estimate == pytest.approx((0.2 + 0.3 + 0.1) / 3)


def test_single_runs_fall_back_to_the_bootstrap_over_test_images():
    ci = change([run(0, (1.0, 1.0, 1.0), (1, 1, 1))], [run(0, (1.0, 0.0, 1.0), (1, 1, 1))])
    assert ci.method == "bootstrap over 3 test images" and ci.distinguishable is False
    assert change([run(0, (1.0, 1.0, 1.0))], [run(0, (1.0, 1.0, 1.0), (5, 5, 5))]) is None   # other test sets


def test_wilson_only_below_twenty_test_images_and_group_counts():
    assert class_wilson(run(0, (1.0, 0.5, 0.0), (1, 20, 4)))[1] is None
    low, high = class_wilson(run(0, (1.0, 0.5, 0.0), (1, 20, 4)))[0]
    assert (low, high) == (pytest.approx(0.2065, abs=1e-3), 1.0)
    assert group_test_counts(run(0, (1, 1, 1), (400, 400, 400))) == {"many": 400, "medium": 400, "few": 400}


def test_small_test_set_warning_names_the_problem_and_the_remedy():
    text = small_test_set([1, 1, 1, 1, 1])
    assert "as few as 1 in a class" in text and "either 0 % or 100 %" in text and "[21 %, 100 %]" in text
    assert "cannot be told apart from noise" in text and "at least 20 test images" in text and "seeds" in text
    assert small_test_set([400] * 10) is None
