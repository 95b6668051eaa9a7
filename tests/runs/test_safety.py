"""Shared-server guards: allowed roots for typed paths; checkpoints never unpickled beyond weights."""
import os
from pathlib import Path

import pytest
import torch

from ltcore import LTError
from ltcore.runs import check_path, load_user_checkpoint


@pytest.fixture
def shared(tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    (allowed / "cifar" / "cat").mkdir(parents=True)
    monkeypatch.setenv("LTLAB_SHARED", "1")
    monkeypatch.setenv("LTLAB_ALLOWED_ROOTS", str(allowed))
    return allowed


def test_single_user_mode_only_resolves(tmp_path, monkeypatch):
    monkeypatch.delenv("LTLAB_SHARED", raising=False)
    assert check_path("/etc/../etc") == check_path("/etc") == Path(os.path.realpath("/etc"))
    with pytest.raises(LTError, match="empty path"):
        check_path("  ")


def test_shared_mode_accepts_paths_under_an_allowed_root(shared):
    assert check_path(shared / "cifar" / "cat") == (shared / "cifar" / "cat").resolve()
    assert check_path(shared) == shared.resolve()
    assert check_path(shared / "not-yet-there") == (shared / "not-yet-there").resolve()


def test_shared_mode_refuses_escapes(shared, tmp_path):
    for path in ("/etc", str(shared / ".." / "elsewhere"), str(tmp_path / "allowed-evil"), "~"):
        with pytest.raises(LTError, match="outside the folders"):
            check_path(path)
    (shared / "link").symlink_to("/etc")
    with pytest.raises(LTError, match="LTLAB_ALLOWED_ROOTS"):
        check_path(shared / "link")


def test_shared_mode_defaults_to_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_SHARED", "yes")
    monkeypatch.delenv("LTLAB_ALLOWED_ROOTS", raising=False)
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path / "data"))
    assert check_path(tmp_path / "data" / "x") == (tmp_path / "data" / "x").resolve()
    with pytest.raises(LTError):
        check_path(tmp_path / "other")


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_user_checkpoints_load_weights_but_refuse_pickled_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(3.0)}, good)
    assert torch.equal(load_user_checkpoint(good)["w"], torch.tensor([0.0, 1.0, 2.0]))
    bad = tmp_path / "bad.pt"
    torch.save({"w": Evil()}, bad)
    with pytest.raises(LTError, match="not a plain weights file"):
        load_user_checkpoint(bad)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(LTError, match="not a file"):
        load_user_checkpoint(tmp_path)
