"""Issue 25 items 6 and 8: one size check for the CLI and the Sweep page (a link asking for
660,000 runs built every configuration), sweep ratios refused as `train` refuses them, and
`reproduce` asking for `--yes` like every command that trains."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hostilehelpers import cli, refused

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


def huge_link() -> dict:
    from ltcore.methods import PRESETS

    return {"sw_methods": ",".join(PRESETS.names()[:33]), "sw_ratios": ",".join(str(r) for r in range(2, 2002)),
            "sw_seeds": "10", "dataset": "gaussians"}


def test_the_sweep_page_refuses_a_grid_over_the_cli_limits_before_building_it(monkeypatch):
    """item 6: the page had no cap; the CLI refuses > 200 runs without --yes."""
    from app.logic import sweep_tables
    from ltcore.errors import LTError
    from ltcore.sweep import SweepSpec

    built = []
    monkeypatch.setattr(SweepSpec, "config_for", lambda *a, **k: built.append(1))
    values = {"dataset": "gaussians", "data_path": "", "profile": "exp", "mu": 0.5, "model": "mlp", "epochs": 5,
              "batch_size": 64, "lr": 0.1, "sw_param": "", "sw_samples": 8, "seed": 0,
              "sw_methods": huge_link()["sw_methods"].split(","), "sw_ratios": huge_link()["sw_ratios"],
              "sw_seeds": 10}
    with pytest.raises(LTError, match=r"660,000 runs .*limits without asking are 200 runs"):
        sweep_tables.spec_from_values(values)
    assert built == []


def test_a_sweep_link_of_660000_runs_is_one_message_at_once():
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.query_params.update(huge_link())
    at.switch_page("../pages/sweep.py")
    t0 = time.monotonic()
    at.run()
    assert time.monotonic() - t0 < 30
    assert not at.exception
    assert len(at.error) == 1 and "660,000 runs" in at.error[0].value and "--yes" in at.error[0].value
    assert not [b for b in at.button if b.key == "sweep_run"]     # nothing to start


def test_the_cli_and_the_page_share_one_size_check(capsys):
    code, out, err = cli(capsys, "sweep", "--dataset", "gaussians", "--methods", huge_link()["sw_methods"],
                         "--ratios", huge_link()["sw_ratios"], "--seeds", ",".join(map(str, range(10))))
    assert "660,000 runs" in refused(code, out, err)


def never_trains(monkeypatch):
    """Training started where a refusal was due: the test fails at once instead of training."""
    from ltcore import sweep
    from ltcore.cli import reproduce

    def refuse(*args, **kwargs):
        raise AssertionError("training started")
    for module, name in ((sweep, "run_sweep"), (reproduce, "run_local"), (reproduce, "run_ray")):
        monkeypatch.setattr(module, name, refuse)


def test_sweep_ratios_beyond_the_data_are_refused_like_train(capsys, monkeypatch):
    """item 8: `sweep --ratios 100000` trained and labelled the row 100000 (digits gives 124×)."""
    from ltcore.runs import RunStore

    never_trains(monkeypatch)

    code, out, err = cli(capsys, "train", "--dataset", "digits", "--ratio", "100000", "--epochs", "1")
    train_line = refused(code, out, err)
    code, out, err = cli(capsys, "sweep", "--dataset", "digits", "--methods", "ce", "--ratios", "10,100000",
                         "--seeds", "0", "--epochs", "1", "--quiet")
    line = refused(code, out, err)
    assert "more than digits can give" in line and "--ratios" in line and "more than digits can give" in train_line
    assert RunStore().list_runs() == []


@pytest.mark.parametrize("extra", [("--epochs", "5000"), ("--seeds", ",".join(map(str, range(300))))])
def test_reproduce_asks_for_yes_before_very_large_work(capsys, monkeypatch, extra):
    """item 8: `reproduce ... --epochs 5000` or 300 seeds started without the size check."""
    from ltcore.runs import RunStore

    never_trains(monkeypatch)

    code, out, err = cli(capsys, "reproduce", "mnist1d-lt", "--dataset", "gaussians", "--methods", "ce",
                         "--ratios", "10", *extra)
    assert "--yes" in refused(code, out, err)
    assert RunStore().list_runs() == []
