"""One real Ray head on the loopback address for the whole test session (started on first use)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raycluster  # noqa: E402


@pytest.fixture(scope="session")
def ray_address(tmp_path_factory):
    """HOST:PORT of a private 2-CPU, GPU-less Ray head; its process group is killed at teardown."""
    for name, value in raycluster.ENV.items():
        pytest.MonkeyPatch().setenv(name, value)
    with raycluster.head(tmp_path_factory.mktemp("ray")) as address:
        yield address
