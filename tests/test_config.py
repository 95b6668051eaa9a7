"""Config: frozen, stable run id, unknown keys and bad values rejected."""
import dataclasses
import subprocess
import sys

import pytest

from ltcore import Config
from ltcore.errors import ConfigError, UnknownNameError


def test_run_id_is_stable_across_processes_and_changes_with_any_field():
    cfg = Config(dataset="digits", ratio=50, epochs=30, seed=1)
    other = subprocess.run([sys.executable, "-c", "from ltcore import Config; "
                            "print(Config(dataset='digits', ratio=50, epochs=30, seed=1).run_id)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert cfg.run_id == other and len(cfg.run_id) == 12
    assert Config(seed=2).run_id != Config(seed=1).run_id
    assert Config(method_params={"b": 1, "a": 2}).run_id == Config(method_params=(("a", 2), ("b", 1))).run_id


def test_config_is_frozen_and_round_trips_through_dict():
    cfg = Config(milestones=(160, 180), method_params={"x": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_unknown_keys_are_rejected():
    with pytest.raises(ConfigError, match="unknown config key"):
        Config.from_dict({"dataset": "digits", "epoch": 3})


@pytest.mark.parametrize("field,value", [("ratio", 0.9), ("epochs", 0), ("batch_size", 0), ("lr", 0),
                                         ("schedule", "linear"), ("device", "tpu")])
def test_bad_values_raise_config_error(field, value):
    with pytest.raises(ConfigError):
        Config(**{field: value})


@pytest.mark.parametrize("field,value", [("dataset", "nope"), ("model", "vgg"), ("method", "magic")])
def test_unknown_names_are_reported_with_the_choices(field, value):
    with pytest.raises(UnknownNameError, match="choose one of"):
        Config(**{field: value}).validate()
