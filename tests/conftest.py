"""Suite-wide isolation: no network, and every run store/checkpoint under a temporary data dir."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    """LTLAB_DATA points at a fresh folder per test; downloads are switched off."""
    data = tmp_path_factory.mktemp("ltlab_data")
    monkeypatch.setenv("LTLAB_DATA", str(data))
    monkeypatch.setenv("LTLAB_OFFLINE", "1")
    return data


os.environ.setdefault("LTLAB_OFFLINE", "1")


def _share_the_cores() -> None:
    """Under `pytest -n N` (make test) each worker gets its share of the cores for torch, so N
    workers do not each start one thread per core and fight over them."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


_share_the_cores()


# The longest test files (minutes on 2 cores: trained lessons, the browser, CLI tables, Ray), started
# first so that `make test`'s workers do not end on one of them while the other idles.
LONGEST_FIRST = ("app/test_lesson_claims.py", "test_reproduce.py", "app/test_app_browser.py",
                 "methods/test_method_behaviour.py", "sweep/test_on_ray.py", "methods/test_method_contrastive.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.path.as_posix()
        return next((i for i, name in enumerate(LONGEST_FIRST) if path.endswith("tests/" + name)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order inside each file and among the rest is kept
