"""`reproduce --no-train`: the table of what the store holds (e.g. after an interrupted table),
training nothing."""
import csv

from ltcore.cli import main
from ltcore.runs import RunStore

TABLE = ["reproduce", "mnist1d-lt", "--dataset", "digits", "--ratios", "10", "--seeds", "0", "--epochs", "1"]


def rows(folder):
    (path,) = folder.glob("*.csv")
    with open(path, newline="") as fh:
        return {r["method"]: r for r in csv.DictReader(fh)}


def test_no_train_writes_the_table_of_finished_runs_and_trains_nothing(tmp_path, capsys):
    assert main([*TABLE, "--methods", "ce", "--workers", "1", "--out", str(tmp_path / "a")]) == 0
    finished = [r["finished"] for r in RunStore().list_runs()]
    capsys.readouterr()
    assert main([*TABLE, "--methods", "ce,cb_ce", "--no-train", "--out", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 runs are in the store" in err
    assert [r["finished"] for r in RunStore().list_runs()] == finished  # nothing trained, nothing queued
    table = rows(tmp_path / "b")
    assert table["ce"]["seeds"] == "1" and table["ce"]["ours_mean"] == rows(tmp_path / "a")["ce"]["ours_mean"]
    assert table["cb_ce"]["seeds"] == "0" and not table["cb_ce"]["error"]
