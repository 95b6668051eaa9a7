"""Hostile command lines, run in this process (`ltcore.cli.main`): each is refused with exit code
2 and one `error:` line that says what to change, before anything trains or is written; the
store's runs are unchanged and nothing outside the allowed roots is touched."""
from __future__ import annotations

import json
import math

import pytest
import torch

from hostilehelpers import cli, refused, runs_of


def test_bad_numbers_and_mismatches_are_refused_in_one_line(capsys, store_copy):
    folder, store, _ = store_copy
    before = runs_of(store)
    cases = {  # argv → a word the message must contain
        ("train", "--seed", "-1"): "seed",
        ("train", "--seed", str(2**70)): "seed",
        ("sweep", "--methods", "ce", "--seeds", "-1"): "seed",
        ("train", "--lr", "inf"): "finite",
        ("train", "--lr-gamma", "nan"): "finite",
        ("train", "--momentum", "nan"): "finite",
        ("train", "--param", "gamma=nan", "--method", "focal"): "finite",
        ("train", "--dataset", "gaussians", "--model", "resnet32"): "takes images",
        ("train", "--ratio", "1e9", "--epochs", "1"): "more than digits can give",
        ("train", "--epochs", str(10**9)): "--yes",
        ("sweep", "--methods", "ce,focal", "--ratios", ",".join(str(r) for r in range(2, 102)),
         "--seeds", ",".join(str(s) for s in range(100))): "20,000 runs",
    }
    for argv, word in cases.items():
        line = refused(*cli(capsys, *argv))
        assert word in line, (argv, line)
    assert runs_of(store) == before


def test_unusable_paths_are_refused_before_training(capsys, store_copy, tmp_path):
    folder, store, run_id = store_copy
    before = runs_of(store)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    cases = {
        ("train", "--dataset", "imagefolder", "--data-path", tmp_path / "loop"): "symbolic-link loops",
        ("train", "--dataset", "imagefolder", "--data-path", a_file): "is a file, not a folder",
        ("train", "--data-dir", a_file): "is a file",
        ("runs", "--data-dir", a_file, "list"): "is a file",
        ("train", "--dataset", "gaussians", "--epochs", "1", "--json", tmp_path): "is a folder",
        ("train", "--dataset", "gaussians", "--epochs", "1", "--json", a_file / "out.json"): "is a file",
        ("sweep", "--methods", "ce", "--seeds", "0", "--csv", tmp_path): "is a folder",
        ("runs", "export", run_id[:6], "--out", a_file): "is a file",
        ("runs", "--db", tmp_path, "list"): "is a folder",
    }
    for argv, word in cases.items():
        line = refused(*cli(capsys, *argv))
        assert word in line, (argv, line)
    assert runs_of(store) == before and a_file.read_text() == "x"


def test_shared_server_paths_never_leave_the_allowed_roots(capsys, shared):
    """data_path and init_from outside the roots (also through a link inside them) are refused by
    the one core check, and the refused folder is neither listed nor opened."""
    (shared.allowed / "link").symlink_to(shared.outside)
    cases = [
        ("train", "--dataset", "imagefolder", "--data-path", shared.outside),
        ("train", "--dataset", "imagefolder", "--data-path", shared.allowed / "link"),
        ("train", "--dataset", "imagefolder", "--data-path", shared.allowed / ".." / "outside"),
        ("train", "--dataset", "gaussians", "--method", "transfer", "--init-from", shared.outside / "weights.pt"),
        ("train", "--dataset", "gaussians", "--method", "transfer", "--init-from",
         shared.allowed / "link" / "weights.pt"),
        ("train", "--dataset", "gaussians", "--method", "ce", "--param", f"init_from={shared.outside / 'secret.txt'}"),
    ]
    for argv in cases:
        line = refused(*cli(capsys, *argv))
        assert "outside the folders" in line and "LTLAB_ALLOWED_ROOTS" in line, line
        assert "secret_class" not in line


def test_json_output_has_null_for_non_finite_numbers(capsys, tmp_path, monkeypatch):
    """A diverged run's NaN/inf metrics are written as null (strict JSON), as docs/metrics.md says."""
    import importlib

    from ltcore import RunResult

    def diverged(config, **kwargs):
        return RunResult(config, "failed", "cpu", ["a", "b"], [10, 2],
                         {"overall_acc": float("nan"), "balanced_acc": float("nan"),
                          "per_class_acc": [float("nan"), 0.5],
                          "shot_acc": {"many": float("inf"), "medium": None, "few": None},
                          "shot_groups": ["many", "few"], "shot_rule": "test", "ece": float("-inf")},
                         [{"epoch": 1, "loss": float("inf")}], 0.1, 1, error="loss became nan in epoch 2")

    monkeypatch.setattr(importlib.import_module("ltcore.cli.train"), "train", diverged)
    out = tmp_path / "out.json"
    code, _, err = cli(capsys, "train", "--dataset", "gaussians", "--epochs", "2", "--no-store", "--json", out)
    assert code == 1 and "Traceback" not in err

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    data = json.loads(out.read_text(), parse_constant=no_constants)
    assert data["overall_acc"] is None and data["per_class_acc"] == [None, 0.5] and data["ece"] is None
    assert data["history"][0]["loss"] is None and data["shot_acc"]["many"] is None


def test_config_refuses_non_finite_and_wrong_types():
    from ltcore import Config, ConfigError

    for field, value in [("lr", math.inf), ("lr_gamma", math.nan), ("ratio", math.nan), ("seed", -1),
                         ("seed", 2**70), ("epochs", "10"), ("ratio", "abc"), ("compile", "yes"),
                         ("milestones", ("a",)), ("method_params", {"gamma": math.nan}), ("dataset", 3)]:
        with pytest.raises(ConfigError):
            Config(**{field: value})
    with pytest.raises(ConfigError, match="takes images"):
        Config(dataset="gaussians", model="cnn").validate()


def test_init_from_that_fits_nothing_is_refused_and_a_fitting_one_is_counted(capsys, tmp_path):
    """item 5: a file whose tensors all mismatch is an error; a good one says how many loaded."""
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv.weight": torch.zeros(3, 3)}, wrong)
    common = ("train", "--dataset", "gaussians", "--epochs", "1", "--batch-size", "256", "--quiet",
              "--method", "transfer", "--no-store")
    line = refused(*cli(capsys, *common, "--init-from", wrong))
    assert "none of the 1 tensors" in line

    from ltcore import Config
    from ltcore.engine.checkpoints import save_checkpoint
    from ltcore.engine.trainer import Trainer

    trainer = Trainer(Config(dataset="gaussians", epochs=1))
    good = save_checkpoint(trainer.config, trainer.model, tmp_path)
    code, out, err = cli(capsys, *common, "--init-from", good)
    assert code == 0, err
    total = len(trainer.model.state_dict())
    assert f"init_from: loaded {total} of {total} tensors" in out
