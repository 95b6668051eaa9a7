"""The hostile suite: bad inputs against the CLI, the store and the dashboard, as an attacker or a
careless user types them. Every refusal must be exit code 2 and ONE `error:` line (a sentence that
says what to change), never a traceback; nothing outside the allowed roots is read or written;
the store's runs stay as they were.

`Outside` records every file open/listing of this process under a folder the user must never
reach (a Python audit hook), so "nothing read outside the allowed roots" is observed, not assumed.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_WATCHED: list[tuple[str, str]] = []   # (event, path) under a watched folder
_ROOTS: list[str] = []


def _audit(event, args):
    if not _ROOTS or event not in ("open", "os.listdir", "os.scandir", "os.remove", "os.rename",
                                   "os.mkdir", "shutil.rmtree"):
        return
    path = args[0] if args else None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, (str, os.PathLike)):
        text = os.path.abspath(os.fspath(path))
        if any(text == r or text.startswith(r + os.sep) for r in _ROOTS):
            _WATCHED.append((event, text))


sys.addaudithook(_audit)


@dataclass
class Shared:
    """A shared server's folders: `allowed` (= LTLAB_DATA, the only allowed root) and `outside`
    (a "system" folder with sub-folders, a weights file and a secret)."""

    allowed: Path
    outside: Path
    touched: list = field(default_factory=list)

    def snapshot(self) -> dict:
        return {p.relative_to(self.outside).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
                for p in sorted(self.outside.rglob("*"))}


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """LTLAB_SHARED=1 with one allowed root; every access under `outside` is recorded and the
    test fails if there was any (or if anything there changed)."""
    import torch

    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    for name in ("secret_class_a", "secret_class_b"):
        (outside / name).mkdir(parents=True)
    (outside / "secret.txt").write_text("do not read")
    torch.save({"backbone.net.1.weight": torch.zeros(64, 2)}, outside / "weights.pt")
    monkeypatch.setenv("LTLAB_DATA", str(allowed))
    monkeypatch.setenv("LTLAB_SHARED", "1")
    monkeypatch.setenv("LTLAB_ALLOWED_ROOTS", str(allowed))
    state = Shared(allowed, outside)
    before = state.snapshot()
    _WATCHED.clear()
    _ROOTS[:] = [str(outside.resolve())]
    yield state
    _ROOTS.clear()
    touched = list(_WATCHED)
    _WATCHED.clear()
    assert not touched, f"files outside the allowed roots were touched: {touched[:5]}"
    assert state.snapshot() == before, "something outside the allowed roots changed"


@pytest.fixture(scope="session")
def finished_store(tmp_path_factory):
    """A store with one finished run (gaussians, 2 epochs), trained once for the suite; tests copy it."""
    from ltcore import Config
    from ltcore.runs import RunStore
    from ltcore.runs.execute import execute

    folder = tmp_path_factory.mktemp("finished_store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(folder))
        store = RunStore(folder / "runs.sqlite")
        state, run_id = store.claim(Config(dataset="gaussians", epochs=2, batch_size=256), os.getpid())
        store.mark_running(run_id, os.getpid())
        assert execute(store, run_id) is not None
    return folder, run_id


@pytest.fixture
def store_copy(finished_store, tmp_path, monkeypatch):
    """A private copy of the finished store as this test's LTLAB_DATA: (folder, store, run id)."""
    import shutil

    from ltcore.runs import RunStore

    source, run_id = finished_store
    folder = tmp_path / "data"
    shutil.copytree(source, folder)
    monkeypatch.setenv("LTLAB_DATA", str(folder))
    return folder, RunStore(folder / "runs.sqlite"), run_id
