"""Sweeps started from the dashboard. `local`: the runs go to the server's job queue (app.ui.jobs).
`ray` (when `$LTLAB_RAY_ADDRESS` names a cluster): one driver process per sweep,
`python -m ltcore sweep --spec FILE --backend ray --address ...`, which submits the trials to Ray Tune
and writes every epoch and result into this server's store — the page only reads the store, so a
reload, another tab or a server restart shows the same sweep."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import streamlit as st

from ltcore.data import default_data_dir

from app.ui import jobs

RAY_ENV = "LTLAB_RAY_ADDRESS"
ROOT = Path(__file__).resolve().parents[2]


def ray_address() -> str:
    """The Ray cluster the dashboard may send sweeps to (empty: local only)."""
    return os.environ.get(RAY_ENV, "").strip()


@st.cache_resource(show_spinner=False)
def _drivers(data_dir: str) -> dict:
    return {"lock": threading.Lock(), "procs": {}}


def _registry() -> dict:
    return _drivers(str(default_data_dir()))


def start_local(configs) -> tuple[list[str], list[str]]:
    """Queue the configs on this server's job queue; (run ids, error lines)."""
    return jobs.submit(configs)


def start_ray(spec, address: str) -> Path:
    """Start (or keep) the driver process of this sweep; returns its log file."""
    store = jobs.store()
    folder = store.root / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    spec_file, log_file = folder / f"{spec.key}.json", folder / f"{spec.key}.log"
    reg = _registry()
    with reg["lock"]:
        proc = reg["procs"].get(spec.key)
        if proc is not None and proc.poll() is None:
            return log_file
        spec_file.write_text(json.dumps(spec.to_dict()))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        with open(log_file, "w") as log:
            reg["procs"][spec.key] = subprocess.Popen(
                [sys.executable, "-m", "ltcore", "sweep", "--spec", str(spec_file), "--backend", "ray",
                 "--address", address, "--quiet", "--data-dir", str(store.root)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT), start_new_session=True)
    return log_file


def ray_running(spec) -> bool:
    proc = _registry()["procs"].get(spec.key)
    return proc is not None and proc.poll() is None


def ray_log_tail(spec, lines: int = 3) -> str:
    path = jobs.store().root / "sweeps" / f"{spec.key}.log"
    try:
        text = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def stop(run_ids: list[str]) -> None:
    """Stop the sweep's unfinished runs: queued ones at once, running ones after their current step
    (a Ray driver sees the same Stop flags in the store and ends its trials and itself)."""
    store = jobs.store()
    for run_id in run_ids:
        row = store.get(run_id)
        if row and row["status"] in ("queued", "running"):
            if row["owner_pid"] == os.getpid():  # on this server's job queue
                jobs.stop(run_id)
            else:
                store.request_stop(run_id)
