"""The dashboard under hostile links (AppTest with crafted query strings) and a broken store:
a warning and the default instead of a blocked page, user text shown as plain text, no folder
outside the allowed roots listed, pages that need no store keep working."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
UNESCAPED = re.compile(r"(?<!\\)[\[\]<>`!:$@]")


@pytest.fixture(autouse=True)
def no_job_managers():
    yield
    from app.ui import jobs

    jobs.shutdown_all()


def open_app(**query) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=90)
    at.query_params.update(query)
    return at.run()


def texts(at) -> str:
    parts = [e.value for kind in ("error", "warning", "markdown", "caption", "info") for e in at.get(kind)]
    parts += [e.value for kind in ("error", "warning") for e in at.sidebar.get(kind)]
    return "\n".join(str(p) for p in parts)


def image_folder(root: Path, counts: dict) -> Path:
    from PIL import Image

    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((8, 8, 3), 7 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_data_page_lists_no_folder_outside_the_allowed_roots(shared):
    """item 1: the Data page refuses the folder (one message), shows none of its sub-folders."""
    for path in (shared.outside, shared.allowed / ".." / "outside"):
        at = open_app(dataset="imagefolder", data_path=str(path))
        assert not at.exception
        assert len(at.error) == 1 and "outside the folders" in at.error[0].value
        assert "secret_class" not in texts(at)


def test_link_values_that_are_not_numbers_fall_back_to_the_defaults():
    """item 10: ratio/lr/mu = nan or inf in a link: a warning, and the default is really used."""
    at = open_app(ratio="nan", lr="inf", mu="-inf", profile="step")
    assert not at.exception and not at.error
    assert (at.session_state["ratio"], at.session_state["lr"], at.session_state["mu"]) == (50.0, 0.1, 0.5)
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "ratio=nan" in warnings and "lr=inf" in warnings and "mu=-inf" in warnings
    assert at.sidebar.number_input[0].value == 50.0


def test_user_text_in_messages_is_plain_text(tmp_path):
    """item 3: a crafted path puts no link, image or HTML into the error box."""
    crafted = "[click here](https://evil.example/login) ![x](https://evil.example/x.png) <b>www.evil.example</b>"
    at = open_app(dataset="imagefolder", data_path=str(tmp_path / crafted))
    assert not at.exception and len(at.error) == 1
    body = at.error[0].value
    assert "does not exist" in body and "evil" in body
    assert not UNESCAPED.findall(body), body
    assert "www\\.evil" in body and body.replace("\\", "").count("[click here](https") == 1


def test_transfer_preset_and_bad_link_parameters_leave_the_train_page_usable():
    """item 15: `transfer` can be chosen (its init_from is edited before it is filled in), and a
    link's params={"focal": {"gamma": "abc"}} is a warning with the default, not a blocked page."""
    at = open_app(methods="transfer,focal", params='{"focal": {"gamma": "abc", "alpha2": 1}, "ce": 3}')
    at.switch_page("../pages/train.py").run()
    at.session_state["edit_transfer"] = at.session_state["edit_focal"] = True   # open their editors
    at.run()
    assert not at.exception
    assert "unexpected error" not in texts(at)
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "gamma" in warnings and "alpha2" in warnings
    from ltcore.methods import resolve_params
    assert at.number_input(key="param_focal_gamma").value == resolve_params("focal", {})["gamma"]
    assert at.text_input(key="param_transfer_init_from").value == ""
    assert len(at.error) == 1 and "needs init_from" in at.error[0].value


def test_a_damaged_store_leaves_the_data_page_working(tmp_path, monkeypatch):
    """item 11: the Data page needs no store: it works and says what is wrong; the Train page
    names the file and what to do (no "unexpected error: DatabaseError")."""
    (tmp_path / "runs.sqlite").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    at = open_app()
    assert not at.exception and not at.error
    assert any(m.label == "Training images" for m in at.metric)
    assert any("damaged" in w.value and "runs.sqlite" in w.value for w in at.warning)
    at.switch_page("../pages/train.py").run()
    assert not at.exception and len(at.error) == 1
    assert "damaged" in at.error[0].value and "unexpected" not in at.error[0].value


def test_a_link_to_the_parent_inside_a_class_folder_is_not_followed(tmp_path):
    """item 4: cat/up -> .. does not file the dog images (and cat's again) under cat."""
    root = image_folder(tmp_path / "pets", {"cat": 12, "dog": 30})
    (root / "cat" / "up").symlink_to("..")
    at = open_app(dataset="imagefolder", data_path=str(root), profile="none")
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "skipped 1 symbolic link" in warnings and "cat/up" in warnings
    from ltcore.data import load_split
    split = load_split("imagefolder", path=str(root))
    assert len(split.y_train) + len(split.y_val) + len(split.y_test) == 42      # 12 + 30, nothing twice
    train = next(m.value for m in at.metric if m.label == "Training images")
    assert int(train.replace(",", "")) == len(split.y_train)
