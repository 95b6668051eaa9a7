"""One process-wide job queue over the run store: bounded concurrency, one worker subprocess per run,
identical configurations trained once, progress and Stop readable/usable from any thread or process."""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..result import RunResult
from .procs import pid_alive
from .safety import check_path
from .store import RunStore

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
FINAL = ("done", "stopped", "failed")


def default_workers() -> int:
    """`$LTLAB_WORKERS`, else one job per visible CUDA GPU, else one (CPU)."""
    if os.environ.get("LTLAB_WORKERS"):
        return max(int(os.environ["LTLAB_WORKERS"]), 1)
    import torch
    return max(torch.cuda.device_count(), 1)


class JobManager:
    """Thread-safe queue: `submit` returns at once; a daemon thread starts workers and reaps them.

    On start, runs left queued/running by dead processes are marked `interrupted`; runs whose worker
    process is still alive (the server restarted, the worker did not) are adopted and watched.
    """

    def __init__(self, store: RunStore | None = None, max_workers: int | None = None,
                 save_checkpoints: bool = True, stop_grace: float = 30.0, poll: float = 0.2,
                 standby: bool = True):
        self.store = store or RunStore()
        self.max_workers = max_workers or default_workers()
        self.save_checkpoints = save_checkpoints
        self.stop_grace, self.poll, self.standby = stop_grace, poll, standby
        self._standby: subprocess.Popen | None = None
        self._gpus = self._gpu_count()
        self._cond = threading.Condition(threading.RLock())
        self._queue: collections.deque[str] = collections.deque()
        self._procs: dict[str, tuple[subprocess.Popen, int | None]] = {}
        self._adopted: dict[str, int] = {}
        self._exiting: list[subprocess.Popen] = []
        self._trained: set[str] = set()
        self._closed = False
        self.interrupted_on_start = self.store.recover()
        for row in self.store.list_runs(status="running"):
            pid = self.store.get(row["run_id"])["worker_pid"]
            if pid and pid != os.getpid():
                self._adopted[row["run_id"]] = pid
        self._start_standby()
        self._thread = threading.Thread(target=self._loop, name="ltcore-jobs", daemon=True)
        self._thread.start()

    # -- the API the dashboard uses ---------------------------------------------------------------
    def submit(self, config: Config | dict) -> str:
        """Queue a run and return its id at once; a finished identical run is returned, one in flight joined."""
        config = Config.from_dict(config) if isinstance(config, dict) else config
        config.validate()
        if config.data_path:
            check_path(config.data_path)
        with self._cond:
            state, run_id = self.store.claim(config, os.getpid())
            if state == "queued":
                self._queue.append(run_id)
                self._cond.notify_all()
        return run_id

    def rerun(self, run_id: str) -> str:
        """Queue an interrupted, failed or stopped run again (a done or active run is left as it is)."""
        row = self._row(run_id)
        if row["status"] in ("done", "queued", "running"):
            return run_id
        with self._cond:
            state, new_id = self.store.claim(Config.from_dict(row["config"]), os.getpid(), force=True)
            if state == "queued":
                self._queue.append(new_id)
                self._cond.notify_all()
        return new_id

    def status(self, run_id: str) -> dict:
        """Progress as plain data: status, epoch/epochs, live history, error, device, cached."""
        row = self._row(run_id)
        with self._cond:
            position = self._queue.index(run_id) if run_id in self._queue else None
            cached = row["status"] in FINAL and run_id not in self._trained
        return {"run_id": run_id, "status": row["status"], "epoch": row["epoch"],
                "epochs": row["config"]["epochs"], "history": self.store.history(run_id),
                "error": row["error"], "device": row["device"], "cached": cached, "queue_position": position}

    def result(self, run_id: str) -> RunResult | None:
        """The stored result once the run is done, stopped or failed with one; else None."""
        row = self._row(run_id)
        if row["status"] not in FINAL or not row["has_result"]:
            return None
        return self.store.load_result(run_id)

    def stop(self, run_id: str) -> None:
        """A queued run ends at once as `stopped`; a running one stops after its current step."""
        with self._cond:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self.store.mark_finished(run_id, "stopped", "stopped before it started")
                return
        self.store.request_stop(run_id)

    def stop_all(self) -> None:
        for run_id in self.active():
            self.stop(run_id)

    def active(self) -> list[str]:
        """Run ids this manager is running (first) or has queued, in order."""
        with self._cond:
            running, queued = [*self._procs, *self._adopted], list(self._queue)
        return [r for r in running if self.store.get(r)["status"] == "running"] + queued

    def shutdown(self, kill: bool = False, timeout: float = 30.0) -> None:
        """Stop the dispatcher; with `kill`, terminate workers (runs end stopped/interrupted)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            procs = [p for p, _ in self._procs.values()]
            if self._standby is not None:
                self._standby.stdin.close()
                self._standby.wait(timeout)
                self._standby = None
        self._thread.join(timeout)
        for proc in procs if kill else []:
            proc.terminate()
        for proc in procs if kill else []:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if kill:
            self._reap()

    def wait(self, run_id: str, timeout: float | None = None) -> dict:
        """Block until the run leaves queued/running (scripts, tests); returns its status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status(run_id)
            if status["status"] not in ("queued", "running"):
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {status['status']} after {timeout} s")
            time.sleep(0.1)

    # -- internals --------------------------------------------------------------------------------
    def _row(self, run_id: str) -> dict:
        row = self.store.get(run_id)
        if row is None:
            raise LTError(f"no run {run_id!r} in the store {self.store.path}")
        return row

    @staticmethod
    def _gpu_count() -> int:
        import torch
        return torch.cuda.device_count()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                try:
                    self._reap()
                    self._dispatch()
                except Exception as exc:  # noqa: BLE001 - the dispatcher must never die
                    print(f"ltcore jobs: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                self._cond.wait(self.poll)

    def _dispatch(self) -> None:
        while self._queue and len(self._procs) + len(self._adopted) < self.max_workers:
            run_id = self._queue.popleft()
            if self.store.stop_requested(run_id):
                self.store.mark_finished(run_id, "stopped", "stopped before it started")
                continue
            self._spawn(run_id)

    def _env(self, gpu: int | None) -> dict:
        path = os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, PYTHONPATH=path)
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(gpu)
        return env

    def _command(self, *args: str) -> list[str]:
        flags = [] if self.save_checkpoints else ["--no-checkpoint"]
        return [sys.executable, "-m", "ltcore.runs.worker", *args, "--db", str(self.store.path), *flags]

    def _start_standby(self) -> None:
        """A worker that has already imported torch and waits for a run id (single-GPU/CPU hosts)."""
        if self._gpus > 1 or not self.standby or self._closed:
            return
        if self._standby is None or self._standby.poll() is not None:
            self._standby = subprocess.Popen(self._command("--standby"), stdin=subprocess.PIPE, text=True,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             env=self._env(None))

    def _spawn(self, run_id: str) -> None:
        gpu = None
        if self._gpus > 1:
            busy = {g for _, g in self._procs.values()}
            gpu = min((g for g in range(self._gpus) if g not in busy), default=len(self._procs) % self._gpus)
        proc, self._standby = self._standby, None
        if proc is not None and proc.poll() is None:
            self.store.mark_running(run_id, proc.pid)
            try:
                proc.stdin.write(run_id + "\n")
                proc.stdin.close()
            except OSError:
                proc.kill()
                proc.wait()
                proc = None
        else:
            proc = None
        if proc is None:
            log = self.store.log_path(run_id)
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "w") as out:
                proc = subprocess.Popen(self._command(run_id), stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=self._env(gpu))
            self.store.mark_running(run_id, proc.pid, force=True)
        self._procs[run_id] = (proc, gpu)
        self._trained.add(run_id)
        self._start_standby()

    def _reap(self) -> None:
        """Free the slots of finished workers; record those that ended without an outcome (crash,
        kill -9); force-stop ones that ignore a Stop request for `stop_grace` seconds."""
        self._exiting = [p for p in self._exiting if p.poll() is None]
        for run_id, (proc, _) in list(self._procs.items()):
            code = proc.poll()
            if code is None:
                row = self.store.get(run_id)
                if row and (row["status"] not in ("queued", "running") or row["worker_pid"] != proc.pid):
                    del self._procs[run_id]          # outcome written; the process is just exiting
                    self._exiting.append(proc)
                elif row and row["stop_requested"] and time.time() - row["stop_requested"] > self.stop_grace:
                    proc.terminate()
                continue
            del self._procs[run_id]
            if code < 0:
                self.store.mark_finished(run_id, "interrupted", f"the worker was killed (signal {-code}); "
                                         "re-run it", only_pid=proc.pid)
            else:
                self.store.mark_finished(run_id, "failed", f"the worker exited with code {code}: "
                                         f"{_last_line(self.store.log_path(run_id))}", only_pid=proc.pid)
        for run_id, pid in list(self._adopted.items()):
            if not pid_alive(pid):
                del self._adopted[run_id]
                self.store.mark_finished(run_id, "interrupted", "its worker process ended without a result; "
                                         "re-run it", only_pid=pid)
            elif self.store.get(run_id)["status"] not in ("queued", "running"):
                del self._adopted[run_id]


def _last_line(path: Path) -> str:
    try:
        lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return "no log"
    return (lines[-1][:300] if lines else "no output") + f" (log: {path})"
