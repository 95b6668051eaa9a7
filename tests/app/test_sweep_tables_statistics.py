"""The Sweep page's numbers table (issue 20 §2): the balanced mean's 95 % interval over seeds and
the rank with its range over seeds."""
import pandas as pd
import pytest
from scipy import stats

from app.logic.sweep_tables import summary_frame


def test_sweep_numbers_have_intervals_and_rank_ranges():
    acc = {"ce": (0.70, 0.72, 0.71), "bs": (0.78, 0.80, 0.79), "focal": (0.69, 0.73, 0.70)}
    frame = pd.DataFrame([dict(method=m, ratio=100.0, seed=s, balanced_acc=v, overall_acc=v)
                          for m, vals in acc.items() for s, v in enumerate(vals)])
    table = summary_frame(frame).set_index("method")
    low, high = stats.t.interval(0.95, 2, loc=0.71, scale=stats.sem(acc["ce"]))
    assert table.loc["ce", "balanced_acc_low"] == pytest.approx(low)
    assert table.loc["ce", "balanced_acc_high"] == pytest.approx(high)
    assert table["rank"].to_dict() == {"bs": "1", "ce": "2 (2–3)", "focal": "3 (2–3)"}
    one = summary_frame(frame[frame["seed"] == 0]).set_index("method")
    assert one["balanced_acc_low"].isna().all() and one.loc["bs", "rank"] == "1"
