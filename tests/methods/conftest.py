"""Shared fixtures for the method-zoo tests: the digits-LT data (ρ = 50) drawn once."""
import pytest

from ltcore import Config
from ltcore.engine.trainer import prepare_data


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slower behavioural checks (still run by `make test`)")


@pytest.fixture(scope="session")
def digits():
    """digits-LT, ρ = 50, seed 0: counts [124, 80, 51, 33, 21, 14, 9, 5, 3, 2]."""
    return prepare_data(Config(dataset="digits", ratio=50, seed=0))


@pytest.fixture
def quick():
    """A 2-epoch digits-LT configuration (as Config keyword arguments) that exercises the code fast."""
    return dict(dataset="digits", ratio=50, epochs=2, batch_size=64)
