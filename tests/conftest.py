"""Suite-wide isolation: no network, and every run store/checkpoint under a temporary data dir."""
import os
import signal
import subprocess
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
# Ray on loopback only: the test head runs with this set (tests/sweep/raycluster.py), so its GCS listens
# on 127.0.0.1; a driver without it maps 127.0.0.1 to the machine's network address (where nothing
# listens) and waits for ever. Set before anything imports ray, whose constants read it at import.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def _signals_at_default() -> None:
    """In the child before exec: SIGINT and SIGTERM at their default handlers. A shell without job
    control starts background commands with SIGINT ignored and a child inherits that, so a test that
    sends a signal sets the disposition it relies on itself."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc's parent links), children before grandchildren."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill `proc`, its process group and every process it started (workers with their own session
    too), so nothing keeps running after a failed test."""
    pids = _descendants(proc.pid)
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), *(lambda p=p: os.kill(p, signal.SIGKILL) for p in pids)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory):
    """`trained_store(name, configs)` → (data folder, RunStore, run ids): `configs` trained in this
    process as a worker trains them (history, result, checkpoint) into a fresh store in its own
    data folder. A module's fixture calls it once, so a file's tests share their runs."""
    from ltcore.runs import RunStore
    from stores import train_into

    def make(name: str, configs):
        data = tmp_path_factory.mktemp(name)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LTLAB_DATA", str(data))
            store = RunStore()
            return data, store, [train_into(store, config) for config in configs]

    return make


@pytest.fixture
def spawn():
    """`spawn(argv, **popen_kwargs)`: a child as a terminal starts it (its own process group, SIGINT
    and SIGTERM at their defaults); at teardown, passed or failed, the child and everything it
    started are killed."""
    started = []

    def start(argv, **kwargs):
        proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=_signals_at_default, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        kill_tree(proc)


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
LONGEST_FIRST = ("app/test_lesson_claims.py", "reproduce/test_reproduce.py", "app/test_app_browser.py",
                 "methods/test_method_behaviour.py", "sweep/test_on_ray.py", "methods/test_method_contrastive.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.path.as_posix()
        return next((i for i, name in enumerate(LONGEST_FIRST) if path.endswith("tests/" + name)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order inside each file and among the rest is kept


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium for the real-browser tests: skipped without it, a failure where CI requires
    it (LTLAB_REQUIRE_BROWSER=1)."""
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    import browser  # tests/app/browser.py: the project's real-browser helpers

    path = browser.find_chromium()
    if path is None:
        message = "no chromium found (apt-get install -y chromium); the real-browser test cannot run"
        if os.environ.get("LTLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and LTLAB_REQUIRE_BROWSER=1 requires it")
        pytest.skip(message)
    return path
