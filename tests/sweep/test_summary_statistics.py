"""Issue 20 §2: the `sweep` table gives the 95 % interval of each balanced mean and the rank with
its range over seeds (which methods are tied)."""
from types import SimpleNamespace

import pytest
from scipy import stats

from ltcore.sweep.summary import format_summary, summarise


def result(method, ratio, seed, balanced):
    config = SimpleNamespace(method=method, ratio=ratio, seed=seed)
    metrics = {"overall_acc": balanced, "balanced_acc": balanced,
               "shot_acc": {"many": 0.9, "medium": 0.6, "few": 0.2}}
    return SimpleNamespace(config=config, metrics=metrics, wall_seconds=1.0)


def test_sweep_summary_has_t_interval_and_rank_range():
    acc = {"ce": (0.70, 0.72, 0.71), "balanced_softmax": (0.78, 0.80, 0.79), "focal": (0.69, 0.73, 0.70)}
    rows = summarise([result(m, 100.0, s, v) for m, vals in acc.items() for s, v in enumerate(vals)])
    by = {r["method"]: r for r in rows}
    vals = acc["focal"]
    low, high = stats.t.interval(0.95, 2, loc=sum(vals) / 3, scale=stats.sem(vals))
    assert (by["focal"]["balanced_low"], by["focal"]["balanced_high"]) == (pytest.approx(low), pytest.approx(high))
    assert (by["balanced_softmax"]["rank"], by["balanced_softmax"]["rank_best"], by["balanced_softmax"]["rank_worst"]) \
        == (1, 1, 1)
    assert (by["ce"]["rank"], by["ce"]["rank_best"], by["ce"]["rank_worst"]) == (2, 2, 3)
    text = format_summary(rows)
    assert "balanced 95% CI" in text and "2 (2–3)" in text and "3 (2–3)" in text
    assert f"[{100 * low:5.2f}, {100 * high:5.2f}]" in text


def test_one_seed_has_no_interval_but_a_rank():
    rows = summarise([result("ce", 10.0, 0, 0.8), result("focal", 10.0, 0, 0.7)])
    assert all(r["balanced_low"] is None for r in rows)
    assert [r["rank"] for r in rows] == [1, 2]
    assert "—" in format_summary(rows)
