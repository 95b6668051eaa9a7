"""One real Ray head on the loopback address for the whole test session (started on first use)."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raycluster  # noqa: E402


@pytest.fixture(scope="session")
def ray_address():
    """HOST:PORT of a private 2-CPU, GPU-less Ray head; its process group is killed at teardown."""
    for name, value in raycluster.ENV.items():
        pytest.MonkeyPatch().setenv(name, value)
    # A short folder: Ray's socket paths under pytest-xdist's deeper temp folders pass the 107-byte
    # limit of a Unix socket name.
    tmp = Path(tempfile.mkdtemp(prefix="ltray"))
    try:
        with raycluster.head(tmp) as address:
            yield address
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
