"""The view state ↔ URL query string, and the configs the Train page builds from it (pure)."""
import pytest

from app.logic import state
from ltcore import ConfigError


def test_query_round_trip_keeps_every_changed_value():
    values = {**state.defaults(), "dataset": "gaussians", "ratio": 12.5, "methods": ["ce", "ldam_drw"],
              "epochs": 7, "params": {"ldam_drw": {"scale": 10.0}}, "runs": ["a1-x", "b2-y"], "lesson": 4}
    query = state.to_query(values)
    assert query == {"dataset": "gaussians", "ratio": "12.5", "methods": "ce,ldam_drw", "epochs": "7",
                     "params": '{"ldam_drw":{"scale":10.0}}', "runs": "a1-x,b2-y", "lesson": "4"}
    parsed, problems = state.parse_query(query)
    assert problems == [] and {**state.defaults(), **parsed} == values


def test_defaults_give_an_empty_query_and_unreadable_values_are_reported():
    assert state.to_query(state.defaults()) == {}
    parsed, problems = state.parse_query({"ratio": "lots", "epochs": "3", "unrelated": "x", "params": "[1]"})
    assert parsed == {"epochs": 3}
    assert len(problems) == 2 and "ratio=lots" in problems[0]


def test_configs_are_methods_times_seeds_with_the_view_settings():
    values = {**state.defaults(), "methods": ["ce", "balanced_softmax"], "seeds": 3, "seed": 5, "epochs": 4,
              "dataset": "gaussians", "ratio": 20.0}
    configs = state.make_configs(values)
    assert [(c.method, c.seed) for c in configs] == [("ce", 5), ("ce", 6), ("ce", 7), ("balanced_softmax", 5),
                                                     ("balanced_softmax", 6), ("balanced_softmax", 7)]
    assert {(c.dataset, c.ratio, c.epochs) for c in configs} == {("gaussians", 20.0, 4)}
    assert configs[0].nc_every == 1 and configs[0].snapshot_epochs == (1, 2, 3, 4)


def test_a_parameter_the_method_does_not_take_is_a_config_error():
    values = {**state.defaults(), "params": {"ce": {"gamma": 2.0}}}
    with pytest.raises(ConfigError, match="gamma"):
        state.make_config(values, "ce")


def test_geometry_schedule_measures_about_twenty_times_and_keeps_first_and_last_snapshots():
    assert state.geometry_schedule(200) == {"nc_every": 10, "snapshot_epochs": (1, 29, 58, 86, 115, 143, 172, 200)}
    assert state.geometry_schedule(1) == {"nc_every": 1, "snapshot_epochs": (1,)}
