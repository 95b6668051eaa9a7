"""CLI: trains digits end to end with a readable table and JSON; bad input → one line, exit 2."""
import json
import subprocess
import sys

import pytest

from ltcore.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ltcore", *args], capture_output=True, text=True)


def test_train_prints_per_class_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    code = main(["train", "--dataset", "digits", "--profile", "exp", "--ratio", "50", "--epochs", "2",
                 "--seed", "0", "--json", str(out), "--no-store", "--quiet"])
    assert code == 0
    table = capsys.readouterr().out
    assert "train n" in table and "balanced" in table and "few" in table and "wall" in table
    data = json.loads(out.read_text())
    for key in ("config", "run_id", "device", "class_counts", "per_class_acc", "overall_acc", "balanced_acc",
                "shot_acc", "history", "wall_seconds"):
        assert key in data
    assert data["class_counts"][0] > data["class_counts"][-1]
    assert len(data["history"]) == 2 and set(data["shot_acc"]) == {"many", "medium", "few"}


@pytest.mark.parametrize("args,needle", [
    (["train", "--ratio", "0.5"], "ratio"),
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--dataset", "imagenet-lt"], "unknown data set"),
    (["train", "--method", "magic"], "unknown method"),
    (["train", "--model", "vgg"], "unknown model"),
    (["train", "--dataset", "cifar10", "--no-store"], "cifar"),
    (["train", "--epochs", "many"], "invalid int"),
])
def test_bad_arguments_give_one_clear_line_and_exit_code_2(args, needle, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert needle in lines[0].lower()


def test_python_m_ltcore_reports_errors_without_traceback():
    proc = run_cli("train", "--ratio", "0", "--no-store")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command,needle", [("datasets", "digits"), ("models", "resnet32"), ("methods", "ce")])
def test_listings_show_registries_with_descriptions(command, needle, capsys):
    assert main([command]) == 0
    out = capsys.readouterr().out
    assert needle in out and len(out.splitlines()) >= 2


def test_sweep_prints_mean_and_std_over_seeds_and_reuses_stored_runs(tmp_path, capsys):
    args = ["sweep", "--methods", "ce,balanced_softmax", "--seeds", "0,1", "--epochs", "2",
            "--csv", str(tmp_path / "s.csv")]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "balanced_softmax" in out.out and "±" in out.out
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 3  # header + one row per method
    assert main(args) == 0
    from ltcore.cli.runs import store_for
    assert len(store_for().list_runs()) == 4  # the second sweep trained nothing new


def test_relative_accuracy_trains_the_balanced_references_once(capsys):
    assert main(["train", "--epochs", "2", "--relative", "--quiet"]) == 0
    assert "relative accuracy" in capsys.readouterr().out
