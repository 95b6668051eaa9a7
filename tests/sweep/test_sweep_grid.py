"""The sweep API without Ray: grids and searches as configs, the validation objective, the local
backend running several runs at once."""
from __future__ import annotations

import pytest

from ltcore import Config, ConfigError
from ltcore.cli import main
from ltcore.runs import RunStore
from ltcore.sweep import OBJECTIVE, SweepSpec, best_points, parse_range, search_table


def test_a_random_search_is_reproducible_and_crosses_every_cell():
    spec = SweepSpec(Config(dataset="digits", epochs=2), ("la_loss", "la_posthoc"), (10, 100), (0, 1),
                     (parse_range("tau=0.5:2"),), "random", 3)
    configs = spec.configs()
    assert len(configs) == spec.count() == 2 * 2 * 2 * 3
    values = sorted({dict(c.method_params)["tau"] for c in configs})
    assert len(values) == 3 and all(0.5 <= v <= 2 for v in values)     # the same 3 values in every cell
    assert [c.run_id for c in SweepSpec.from_dict(spec.to_dict()).configs()] == [c.run_id for c in configs]


@pytest.mark.parametrize("text,message", [("tau=2:1", "smaller"), ("loss=1:2", "not a number"),
                                          ("nope=1:2", "unknown method parameter"), ("tau=0:1:log", "LOW > 0")])
def test_bad_ranges_are_one_clear_message(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_range(text)


def test_a_searched_parameter_every_method_must_take():
    with pytest.raises(ConfigError, match="has no parameter 'tau'"):
        SweepSpec(Config(), ("ce", "la_loss"), (10,), (0,), (parse_range("tau=0.5:2"),), "random", 2)


class Fake:
    def __init__(self, tau, val, test):
        self.config = Config(method="la_loss", ratio=10, method_params={"tau": tau})
        self.metrics = {OBJECTIVE: val, "balanced_acc": test, "overall_acc": test,
                        "shot_acc": {"many": test, "medium": test, "few": test}}


def test_the_best_value_is_chosen_on_validation_never_on_test():
    rows = search_table([Fake(0.5, val=0.80, test=0.95), Fake(1.0, val=0.90, test=0.70)], ["tau"])
    (best,) = best_points(rows)
    assert best["tau"] == 1.0 and best["balanced_acc"] == 0.70


def test_local_backend_runs_two_at_once_and_skips_finished_runs(capsys):
    args = ["sweep", "--dataset", "gaussians", "--methods", "ce,balanced_softmax", "--ratios", "20", "--seeds", "0",
            "--epochs", "2", "--workers", "2", "--quiet"]
    assert main(args) == 0
    assert "submitting 2 to local" in capsys.readouterr().err
    rows = RunStore().list_runs()
    assert {r["status"] for r in rows} == {"done"} and len(rows) == 2
    first, second = sorted(rows, key=lambda r: r["started"])
    assert second["started"] < first["finished"]                  # trained side by side
    assert main(args) == 0
    assert "2 already in the store, submitting 0" in capsys.readouterr().err


def test_optuna_and_asha_need_the_ray_backend(capsys):
    base = ["sweep", "--methods", "la_loss", "--param", "tau=0.5:2", "--samples", "2", "--seeds", "0"]
    assert main([*base, "--search", "optuna"]) == 2
    assert "--backend ray" in capsys.readouterr().err
    assert main([*base, "--asha"]) == 2
    assert "--backend ray" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_and_marks_its_runs_stopped(isolated_data_dir, spawn):
    """Ctrl-C (SIGINT, its default handler set by `spawn` even when the suite runs in a background
    job that ignores it) stops the sweep: exit 130, both runs `stopped`, no worker left training."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from ltcore.runs.procs import pid_alive

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = spawn([sys.executable, "-m", "ltcore", "sweep", "--dataset", "digits", "--methods",
                  "ce,balanced_softmax", "--ratios", "10", "--seeds", "0", "--epochs", "400",
                  "--workers", "1", "--quiet"], env=env, cwd=root,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = RunStore(isolated_data_dir / "runs.sqlite")
    deadline = time.monotonic() + 180
    while not any(r["status"] == "running" and r["epoch"] >= 1 for r in store.list_runs()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.3)
    workers = {store.get(r["run_id"])["worker_pid"] for r in store.list_runs() if r["status"] == "running"}
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command again" in err
    rows = store.list_runs()
    assert len(rows) == 2 and {r["status"] for r in rows} == {"stopped"}    # the running one and the queued one
    deadline = time.monotonic() + 60
    while any(pid_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert workers and not any(pid_alive(pid) for pid in workers), "a worker kept running after the sweep"


class TimedStore:
    """A store's answers about two finished runs: 2 epochs of 1 s each, 10 s from start to finish."""

    def list_runs(self, **_):
        return [{"run_id": f"r{i}", "started": 100.0, "finished": 110.0} for i in range(2)]

    def history(self, run_id):
        return [{"epoch": 1, "seconds": 1.0}, {"epoch": 2, "seconds": 1.0}]

    def run_id_for(self, config):
        return config.run_id

    def get(self, run_id):
        return None


def test_the_time_estimate_counts_what_a_run_spends_outside_its_epochs():
    """Issue 22: the Sweep estimate said 16 s for a 43 s grid; epochs alone miss each run's start,
    evaluation and measurements (here 8 of a run's 10 s)."""
    from ltcore.sweep import estimate

    configs = SweepSpec(Config(dataset="digits", epochs=4), ("ce",), (10, 100), (0,)).configs()
    est = estimate(TimedStore(), configs, parallel=2)
    assert est["to_train"] == 2 and est["seconds"] == pytest.approx((8 + 4 * 1.0) * 2 / 2)
