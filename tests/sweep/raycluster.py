"""A private Ray head on the loopback address for the tests: `setsid ray start --head --block` in its
own process group and temp dir, on free ports, stopped by killing that process group (never
`ray stop`, which would end every Ray process on the machine)."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def worker_port_block(size: int = 60) -> int:
    """The first port of `size` consecutive free ports (Ray's worker port range)."""
    for _ in range(100):
        start = random.randrange(20000, 30000 - size)
        try:
            held = []
            for port in range(start, start + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                held.append(s)
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return start
    raise RuntimeError("no block of free ports for the Ray workers")


@contextlib.contextmanager
def head(tmp: Path, cpus: int = 2, gpus: int = 0, timeout: float = 120):
    """Yields "127.0.0.1:PORT" of a fresh head node; everything it started dies at exit."""
    gcs, client, manager, objects, agent, runtime_env, metrics = free_ports(7)
    low = worker_port_block()
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **ENV, RAY_TMPDIR=str(tmp), LTLAB_DATA=str(tmp / "data"), LTLAB_OFFLINE="1")
    log = open(tmp / "head.log", "w")
    proc = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--port", str(gcs), "--num-cpus", str(cpus), "--num-gpus", str(gpus),
         "--include-dashboard=false", "--temp-dir", str(tmp / "ray"), "--ray-client-server-port", str(client),
         "--node-manager-port", str(manager), "--object-manager-port", str(objects),
         "--dashboard-agent-listen-port", str(agent), "--runtime-env-agent-port", str(runtime_env),
         "--metrics-export-port", str(metrics), "--min-worker-port", str(low), "--max-worker-port", str(low + 59)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while "Ray runtime started" not in (tmp / "head.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start:\n{(tmp / 'head.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"127.0.0.1:{gcs}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
