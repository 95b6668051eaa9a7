"""The store under attack or neglect: a corrupted copy, a read-only store, a full disk, killed
trainings, planted or truncated stage-1 checkpoints, `--no-store` and `runs delete` leaving files."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostilehelpers import cli, refused, runs_of

ROOT = Path(__file__).resolve().parents[2]
TINY = ("--dataset", "gaussians", "--epochs", "1", "--batch-size", "256", "--quiet")


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_corrupted_store_is_one_line_that_names_the_file(capsys, store_copy, tmp_path):
    folder, store, run_id = store_copy
    bad = tmp_path / "bad" / "runs.sqlite"
    bad.parent.mkdir()
    data = bytearray((folder / "runs.sqlite").read_bytes())
    data[:100] = os.urandom(100)                       # the header: "file is not a database"
    bad.write_bytes(bytes(data))
    original = bad.read_bytes()
    for argv in (("runs", "--db", bad, "list"), ("runs", "--db", bad, "show", run_id[:6]),
                 ("runs", "--data-dir", bad.parent, "delete", run_id[:6]),
                 ("train", *TINY, "--data-dir", bad.parent)):
        line = refused(*cli(capsys, *argv))
        assert str(bad) in line and "damaged" in line and "move it aside" in line, line
    assert bad.read_bytes() == original                # nothing was "repaired" away
    from ltcore import LTError
    from ltcore.runs import RunStore
    with pytest.raises(LTError, match="damaged"):
        RunStore(bad)


def test_a_read_only_store_says_what_to_do(capsys, store_copy, monkeypatch):
    """SQLite's own read-only errors (the store opened with mode=ro, which also holds for root)."""
    import sqlite3

    import ltcore.runs.store as store_module

    folder, store, run_id = store_copy
    before = runs_of(store)
    connect = sqlite3.connect

    def read_only(path, *args, **kwargs):
        return connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    for argv in (("train", *TINY), ("runs", "delete", run_id[:6])):
        line = refused(*cli(capsys, *argv))
        assert "cannot be opened for writing" in line and str(folder) in line, line
    monkeypatch.undo()
    assert runs_of(store) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions: the read-only folder "
                    "case is covered by the mode=ro test above")
def test_a_read_only_folder_says_what_to_do(capsys, store_copy):
    folder, store, run_id = store_copy
    before = runs_of(store)
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
    try:
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        line = refused(*cli(capsys, "train", *TINY))
        assert str(folder) in line
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert runs_of(store) == before


FULL_DISK = r"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # a write past the limit fails (EFBIG) like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
from ltcore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_is_one_line_and_leaves_no_temporary_files(store_copy, tmp_path):
    """No root tricks: RLIMIT_FSIZE makes every write past 64 KiB fail, as a full disk does. The
    stored run stays readable, no `.tmp` file is left, and the message says to free space."""
    folder, store, run_id = store_copy
    before = runs_of(store)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LTLAB_DATA": str(folder)}
    proc = subprocess.run([sys.executable, "-c", FULL_DISK.format(limit=64 * 1024),
                           "train", *TINY],
                          capture_output=True, text=True, env=env, timeout=300)
    line = refused(proc.returncode, proc.stdout, proc.stderr)
    assert "free" in line and "space" in line, line
    assert not [p for p in files_under(folder) if p.endswith(".tmp")]
    assert [r for r in runs_of(store) if r[0] == run_id] == [r for r in before if r[0] == run_id]
    store.load_result(run_id)                        # what was stored before is intact


def test_killed_trainings_do_not_stay_running(capsys, tmp_path, monkeypatch, spawn):
    """SIGTERM: the train command marks its run interrupted and exits 143 with one line; kill -9:
    the next `runs` command finds the dead process and marks its run interrupted."""
    from ltcore.runs import RunStore

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LTLAB_DATA": str(tmp_path)}
    argv = [sys.executable, "-m", "ltcore", "train", "--dataset", "gaussians", "--epochs", "1000",
            "--batch-size", "16", "--quiet"]
    term = spawn(argv + ["--seed", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill = spawn(argv + ["--seed", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RunStore(tmp_path / "runs.sqlite")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        rows = {r["seed"]: r for r in store.list_runs()}
        if all(rows.get(s, {}).get("status") == "running" for s in (1, 2)):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the trainings did not start")       # `spawn` kills both
    term.send_signal(signal.SIGTERM)
    kill.send_signal(signal.SIGKILL)
    out, err = term.communicate(timeout=240)   # a deadline, not a timing assertion
    kill.wait(timeout=240)
    assert term.returncode == 143 and "Traceback" not in err, err
    assert [l for l in err.splitlines() if l.strip()] == [
        "error: terminated (SIGTERM); a run in progress is marked interrupted"]
    import json
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    code, out, err = cli(capsys, "runs", "list", "--json")
    assert code == 0, err
    rows = {r["seed"]: r for r in json.loads(out)}
    assert rows[1]["status"] == "interrupted" and "SIGTERM" in rows[1]["error"]
    assert rows[2]["status"] == "interrupted" and "ended" in rows[2]["error"]


def test_runs_list_into_a_closed_pipe_ends_quietly(store_copy):
    """`runs list | head` : the reader goes away before the listing is written."""
    folder, store, run_id = store_copy
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LTLAB_DATA": str(folder)}
    proc = subprocess.Popen([sys.executable, "-m", "ltcore", "runs", "list"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                                # before python has even imported ltcore
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_runs_show_of_a_multi_expert_run(capsys, tmp_path):
    """`sade` records no train accuracy (three experts' logits): `runs show` prints "-"."""
    code, out, err = cli(capsys, "train", *TINY, "--method", "sade", "--data-dir", tmp_path)
    assert code == 0, err
    code, out, err = cli(capsys, "runs", "--data-dir", tmp_path, "show", out.split()[1][:8])
    assert code == 0 and "Traceback" not in err, err
    assert out.splitlines()[-1].split()[3] == "-"


def test_no_store_writes_nothing_and_delete_removes_stage1_files(capsys, tmp_path, monkeypatch):
    """items 6, 7: `--no-store` writes no checkpoint anywhere; a stored crt run keeps its stage-1
    model beside its store; a planted or truncated stage-1 file is retrained, not loaded; `runs
    delete` of the last run that uses it removes it."""
    home, data = tmp_path / "home", tmp_path / "data"
    monkeypatch.setenv("LTLAB_DATA", str(home))
    code, out, err = cli(capsys, "train", *TINY, "--method", "crt", "--stage2-epochs", "1",
                         "--no-store", "--data-dir", data)
    assert code == 0, err
    assert files_under(tmp_path) == [], files_under(tmp_path)

    code, out, err = cli(capsys, "train", *TINY, "--method", "crt", "--stage2-epochs", "1", "--data-dir", data)
    assert code == 0, err
    crt = out.split()[1]
    stage1 = [p for p in (data / "checkpoints").rglob("*.pt")]
    assert not home.exists() and len(stage1) == 2   # the crt run's own weights and its stage 1
    from ltcore.runs import RunStore
    store = RunStore(data / "runs.sqlite")
    own = store.checkpoint_path(store.resolve(crt[:8]))
    (shared_stage1,) = [p for p in stage1 if p != own]

    class Planted:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))
    import torch
    torch.save({"x": Planted()}, shared_stage1)       # planted: lws must train stage 1 again
    code, out, err = cli(capsys, "train", *TINY, "--method", "lws", "--stage2-epochs", "1", "--data-dir", data)
    assert code == 0 and "Traceback" not in err, err
    assert not (tmp_path / "pwned").exists()
    lws = out.split()[1]
    assert torch.load(shared_stage1, weights_only=True)   # rewritten with real weights
    shared_stage1.write_bytes(shared_stage1.read_bytes()[:100])   # truncated
    code, out, err = cli(capsys, "train", *TINY, "--method", "ncm", "--data-dir", data)
    assert code == 0 and "Traceback" not in err, err
    ncm = out.split()[1]

    for run in (crt, lws):
        assert cli(capsys, "runs", "--data-dir", data, "delete", run[:8])[0] == 0
        assert shared_stage1.exists()                  # the ncm run still uses it
    assert cli(capsys, "runs", "--data-dir", data, "delete", ncm[:8])[0] == 0
    assert list((data / "checkpoints").rglob("*.pt*")) == []
