"""Issue 25 items 7 and 10: Ray settings and addresses that made a sweep wait or retry for ever are
refused before Ray starts, with one line; a distillation run's missing teacher is one line too.
(The teacher shipped to a real Ray trial: tests/sweep/test_on_ray.py, which owns the one Ray head.)"""
from __future__ import annotations

import http.server
import threading
import time

import pytest

from hostilehelpers import cli, refused

GRID = ("sweep", "--dataset", "gaussians", "--methods", "ce", "--ratios", "10", "--seeds", "0", "--epochs", "1",
        "--backend", "ray", "--quiet")


@pytest.fixture
def no_ray_start(monkeypatch):
    """Ray must not be started (a refusal is due first): ray.init fails the test at once."""
    import ray

    def refuse(*args, **kwargs):
        raise AssertionError("ray.init was called")
    monkeypatch.setattr(ray, "init", refuse)


@pytest.mark.parametrize("flags, words", [
    (("--gpus-per-trial=-1",), "--gpus-per-trial must be 0 or a positive number"),
    (("--gpus-per-trial=nan",), "--gpus-per-trial must be 0 or a positive number"),
    (("--gpus-per-trial=inf",), "--gpus-per-trial must be 0 or a positive number"),
    (("--cpus-per-trial=nan",), "--cpus-per-trial must be a number above 0"),
    (("--cpus-per-trial=-inf",), "--cpus-per-trial must be a number above 0"),
    (("--max-failures=-1",), "--max-failures must be 0 or more"),
])
def test_ray_settings_that_wait_or_retry_for_ever_are_refused_before_ray_starts(capsys, no_ray_start, flags, words):
    """item 7: negative GPUs passed the resource check (the trial waited for ever), -1 retries a
    failing trial for ever; item 11: --cpus-per-trial nan was an internal error."""
    code, out, err = cli(capsys, *GRID, "--address", "127.0.0.1:1", *flags)
    assert words in refused(code, out, err)


def test_reproduce_checks_the_same_ray_settings(capsys, no_ray_start):
    code, out, err = cli(capsys, "reproduce", "mnist1d-lt", "--dataset", "gaussians", "--methods", "ce", "--ratios",
                         "10", "--seeds", "0", "--epochs", "1", "--backend", "ray", "--cpus-per-trial=nan")
    assert "--cpus-per-trial must be a number above 0" in refused(code, out, err)


def test_an_http_server_at_the_ray_address_is_refused_in_seconds(capsys, no_ray_start):
    """item 7: a web server passed the TCP check, and Ray retried for ever."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        t0 = time.monotonic()
        code, out, err = cli(capsys, *GRID, "--address", f"127.0.0.1:{server.server_address[1]}")
        seconds = time.monotonic() - t0
    finally:
        server.shutdown()
    line = refused(code, out, err)
    assert "answers, but not as a Ray cluster" in line
    assert seconds < 30


def test_a_silent_server_at_the_ray_address_is_refused_in_seconds(capsys, no_ray_start):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        code, out, err = cli(capsys, *GRID, "--address", f"127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    assert "not as a Ray cluster" in refused(code, out, err)


def test_a_distillation_sweep_whose_teacher_is_not_stored_is_one_line_before_ray_starts(capsys, no_ray_start):
    """item 10: a teacher the driver's store lacks was a raw trial traceback on Ray."""
    code, out, err = cli(capsys, "sweep", "--dataset", "gaussians", "--method", "bkd", "--methods", "bkd",
                         "--param", "kd_teacher=@ce", "--ratios", "10", "--seeds", "0", "--epochs", "1",
                         "--backend", "ray", "--quiet")
    line = refused(code, out, err)
    assert "kd_teacher @ce" in line and "the ce run of its settings" in line and "train the teacher run first" in line
