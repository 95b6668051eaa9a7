"""Runs of profile `none` (an image folder's own distribution) are labelled with their real ratio
in the run picker, the run table, chart labels and the URL's defaults (issue 22 item 7)."""
from app.logic import state
from app.logic.labels import ratio_text, run_labels
from app.ui.runs_table import matches, run_name, table_frame
from app.ui.widgets import option_label
from ltcore import Config
from ltcore.runs.store import summarize

ROW = {"run_id": "abc123def456", "status": "done", "epoch": 2, "created": None, "started": None,
       "finished": None, "device": "cpu", "error": "", "code_version": "x", "attempts": 1}


def folder_row(ratio=50.0, counts=(32, 11, 5, 4)):
    config = Config(dataset="imagefolder", data_path="/photos", profile="none", ratio=ratio, epochs=2).to_dict()
    return summarize(ROW, config, {"balanced_acc": 0.5, "class_counts": list(counts)})


def test_the_store_row_of_a_folder_run_carries_its_real_ratio():
    row = folder_row()
    assert row["profile"] == "none" and row["real_ratio"] == 8.0 and row["ratio"] == 50.0


def test_picker_table_and_chart_labels_show_the_real_ratio_not_the_asked_one():
    row = folder_row()
    assert " ρ8 (own) · " in option_label(row) and "ρ50" not in option_label(row)
    assert table_frame([row], [])["ratio"].tolist() == [8.0]
    assert matches(row, {"ratio": [8.0]}) and not matches(row, {"ratio": [50.0]})
    assert " · ρ8 (own) · " in run_name(row)
    exp = Config(dataset="imagefolder", data_path="/photos", ratio=50, epochs=2)
    own = Config(dataset="imagefolder", data_path="/photos", profile="none", ratio=50, epochs=2)
    assert run_labels([exp, own], [10.0, 8.0]) == ["ce · ρ50 · exp", "ce · ρ8 (own) · none"]
    assert run_labels([own, own.replace(ratio=10)], [8.0, 8.0])[0].startswith("ce · ")   # same data: no ρ
    assert ratio_text("none", 50, None) == "own ρ"


def test_an_image_folder_defaults_to_its_own_distribution_in_the_link():
    values = {**state.defaults(), "dataset": "imagefolder", "profile": "none", "data_path": "/photos"}
    assert state.to_query(values) == {"dataset": "imagefolder", "data_path": "/photos"}
    parsed, _ = state.parse_query({"dataset": "imagefolder"})
    assert {**state.defaults(parsed["dataset"]), **parsed}["profile"] == "none"
    assert state.to_query({**values, "profile": "exp"})["profile"] == "exp"
