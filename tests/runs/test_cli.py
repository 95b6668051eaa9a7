"""`python -m ltcore runs ...` and the train command's store recording (through ltcore.cli.main)."""
import json

import pytest

from ltcore import Config
from ltcore.cli import main
from ltcore.runs import RunStore
from ltcore.cli.runs import store_recorder
from ltcore.engine.trainer import train


def test_train_records_the_run_and_runs_commands_see_it(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--quiet", "--seed", "5"]) == 0
    store = RunStore()
    [row] = store.list_runs()
    assert row["status"] == "done" and row["epoch"] == 2 and row["attempts"] == 1
    assert len(store.history(row["run_id"])) == 2 and store.load_checkpoint(row["run_id"])
    capsys.readouterr()
    assert main(["runs", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].startswith(row["run_id"]) and " done " in listing[1] and "2/2" in listing[1]
    assert main(["runs", "show", row["run_id"][:6]]) == 0
    shown = capsys.readouterr().out
    assert f"run {row['run_id']}  status done" in shown and "per-class acc:" in shown
    assert main(["runs", "export", "--out", str(tmp_path / "x")]) == 0
    assert json.loads((tmp_path / "x" / "runs.json").read_text())[0]["run_id"] == row["run_id"]
    assert main(["runs", "delete", row["run_id"]]) == 0
    assert store.list_runs() == []
    assert main(["runs", "show", "ffff"]) == 2
    assert "no run match" in capsys.readouterr().err


def test_no_store_leaves_the_store_empty():
    assert main(["train", "--epochs", "1", "--quiet", "--no-store"]) == 0
    assert RunStore().list_runs() == []


def test_recorder_honours_a_stop_from_another_process_and_marks_abandoned_runs():
    config = Config(epochs=50, seed=6)
    recorder = store_recorder(config)
    recorder.store.request_stop(recorder.run_id)  # what the dashboard's Stop button does
    result = train(config, on_event=recorder.on_event, should_stop=recorder.should_stop)
    recorder.finish(result)
    row = recorder.store.get(recorder.run_id)
    assert result.status == "stopped" and row["status"] == "stopped" and row["epoch"] < 50
    abandoned = store_recorder(Config(epochs=1, seed=7))
    abandoned._abandoned()  # what atexit does when the command died before finish()
    assert abandoned.store.get(abandoned.run_id)["status"] == "interrupted"


def test_tensorboard_event_files_hold_the_epoch_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert main(["train", "--epochs", "2", "--quiet", "--no-store", "--tensorboard", str(tmp_path)]) == 0
    [folder] = list(tmp_path.iterdir())
    events = EventAccumulator(str(folder))
    events.Reload()
    assert [e.step for e in events.Scalars("balanced_acc")] == [1, 2]
    assert {"loss", "lr", "train_acc", "test_acc", "few_acc"} <= set(events.Tags()["scalars"])
