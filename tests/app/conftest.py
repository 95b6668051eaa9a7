"""Fixtures of the dashboard tests: a shared store of tiny finished runs, fresh stores, AppTest."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import ENTRY, train_into

LAB_METHODS = ("ce", "balanced_softmax", "tau_norm")


@dataclass
class Lab:
    data: Path
    store: object
    runs: dict          # method → run id (gaussians, 4 epochs, geometry recorded)
    references: dict    # method → run ids of its balanced references (plain CE, the method)


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    """A run store with three tiny finished gaussians runs, trained once per session in-process
    through the same code path as a worker (history, result, checkpoint), and the balanced
    reference runs of relative accuracy for two of them."""
    from app.logic.state import geometry_schedule
    from ltcore import Config
    from ltcore.metrics import reference_configs
    from ltcore.runs import RunStore

    data = tmp_path_factory.mktemp("lab")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store = RunStore()
        configs = {m: Config(dataset="gaussians", ratio=50, method=m, epochs=4, batch_size=64,
                             **geometry_schedule(4)) for m in LAB_METHODS}
        runs = {m: train_into(store, c) for m, c in configs.items()}
        references = {m: [train_into(store, ref) for ref in reference_configs(configs[m])]
                      for m in ("ce", "balanced_softmax")}
    return Lab(data, store, runs, references)


@pytest.fixture
def lab_env(lab, monkeypatch) -> Lab:
    """Point the app at the shared lab store."""
    monkeypatch.setenv("LTLAB_DATA", str(lab.data))
    return lab


@pytest.fixture(autouse=True, scope="module")
def stop_job_managers():
    """Every test module ends with no job manager or worker left running."""
    yield
    from app.ui import jobs

    jobs.shutdown_all()


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(ENTRY, default_timeout=60)
