"""Chart builders and labels as pure functions (values derived by hand)."""
from app.charts.base import frequency_order, label_histogram
from app.charts.diagnostics import tau_points
from app.charts.geometry import ideal_etf_cosines
from app.logic.labels import run_labels
from ltcore import Config


def test_frequency_order_is_most_frequent_first_with_ties_in_class_order():
    assert frequency_order([5, 9, 5, 1]) == [1, 0, 2, 3]


def test_ideal_simplex_etf_has_unit_diagonal_and_minus_one_over_k_minus_one_elsewhere():
    etf = ideal_etf_cosines(4)
    assert etf[0] == [1.0, -1 / 3, -1 / 3, -1 / 3]
    assert all(abs(sum(row)) < 1e-12 for row in etf)     # 1 + 3·(−1/3) = 0: the means sum to zero


def test_tau_sweeps_are_read_in_every_stored_shape():
    assert tau_points([[0.0, 0.5], [1.0, 0.7]]) == ([0.0, 1.0], {"balanced_acc": [0.5, 0.7]})
    assert tau_points([{"tau": 0.0, "few_acc": 0.1}]) == ([0.0], {"few_acc": [0.1]})
    assert tau_points({"tau": [0.0, 2.0], "balanced_acc": [0.4, 0.6]}) == ([0.0, 2.0], {"balanced_acc": [0.4, 0.6]})


def test_run_labels_name_only_what_differs():
    a, b = Config(method="ce", seed=0), Config(method="ce", seed=1)
    assert run_labels([a, b]) == ["ce · seed 0", "ce · seed 1"]
    c = Config(method="focal", ratio=10)
    assert run_labels([a, c]) == ["ce · ρ50", "focal · ρ10"]
    labels = run_labels([a, a])
    assert labels[0] == labels[1] == f"ce · {a.run_id[:6]}"


def test_histogram_groups_bars_by_shot_group_and_switches_to_log():
    fig = label_histogram(["a", "b", "c"], [10, 100, 1], [5, 5, 5], ["medium", "many", "few"], log=True)
    train = {t.name: list(t.y) for t in fig.data if t.name != "test"}
    assert train == {"many": [100], "medium": [10], "few": [1]}
    assert list(fig.layout.xaxis.categoryarray) == ["b", "a", "c"] and fig.layout.yaxis.type == "log"
