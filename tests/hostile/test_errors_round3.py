"""Issue 25 item 11: faults that were a traceback or an "internal error" are one clear message
(TensorBoard into a path under a file, a full disk under the MNIST-1D cache, a damaged
`runs.config` row, 10,000 classes in the Data gallery, a 0-byte or binary CSV among the reproduced
tables). `--cpus-per-trial nan`: test_ray_round3.py."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from hostilehelpers import cli, refused

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
TINY = ("--dataset", "gaussians", "--epochs", "1", "--batch-size", "256", "--quiet")


def test_tensorboard_under_a_file_is_one_line(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, out, err = cli(capsys, "train", *TINY, "--tensorboard", tmp_path / "afile" / "tb")
    line = refused(code, out, err)
    assert "--tensorboard" in line and "cannot write event files" in line


def test_a_full_disk_under_the_mnist1d_cache_costs_only_the_cache(tmp_path, monkeypatch):
    """torch.save's failed write is a RuntimeError: it was an internal error with a `.tmp` left."""
    from ltcore.data import mnist1d_set

    def full_disk(obj, f):
        Path(f).write_bytes(b"partial")
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")
    monkeypatch.setattr(mnist1d_set.torch, "save", full_disk)
    x, y = mnist1d_set.load_signals(tmp_path, 200)
    assert len(y) == 200 and x.shape[0] == 200
    assert list(tmp_path.iterdir()) == []


def test_one_damaged_config_row_does_not_stop_runs_list(capsys, store_copy):
    folder, store, run_id = store_copy
    with sqlite3.connect(folder / "runs.sqlite") as db:
        db.execute("INSERT INTO runs (run_id, config_id, code_version, config, status, created) "
                   "VALUES ('bad-0', 'bad', '0', '{not json', 'done', 0)")
    code, out, err = cli(capsys, "runs", "list")
    assert code == 0, err
    assert run_id in out and "bad-0" in out
    code, out, err = cli(capsys, "runs", "show", "bad-0")
    assert code == 0 and "damaged" in out, err
    code, out, err = cli(capsys, "runs", "delete", "bad-0")
    assert code == 0, err
    assert [r["run_id"] for r in store.list_runs()] == [run_id] and store.load_checkpoint(run_id)


def test_the_gallery_of_a_folder_of_many_classes_stays_a_picture_of_a_few_rows():
    """10,000 class folders made a picture hundreds of thousands of pixels tall."""
    from app.charts import base as charts

    k = 200
    images = np.zeros((k, 3, 32, 32), np.uint8)
    labels = np.arange(k)
    picture = charts.gallery_image(images, labels, [f"c{i}" for i in range(k)], list(range(k)))
    assert picture.height <= charts.GALLERY_CLASSES * 33
    signals = charts.signal_gallery(np.zeros((k, 40)), labels, [f"c{i}" for i in range(k)], list(range(k)))
    assert len(signals.layout.annotations) == charts.GALLERY_CLASSES


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 4])
def test_a_damaged_csv_among_the_reproduced_tables_is_a_warning_not_a_stopped_page(tmp_path, monkeypatch, content):
    from ltcore import LTError, reproduce

    folder = tmp_path / "data" / "reproduce"
    folder.mkdir(parents=True)
    (folder / "broken.csv").write_bytes(content)
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path / "data"))
    with pytest.raises(LTError, match="broken.csv"):
        reproduce.read_table(folder / "broken.csv")
    at = AppTest.from_file(ENTRY, default_timeout=90)
    at.switch_page("../pages/compare.py").run()
    assert not at.exception and not at.error
    assert any("broken.csv" in w.value for w in at.warning)
