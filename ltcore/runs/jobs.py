"""One process-wide job queue over the run store: bounded concurrency, worker subprocesses
(runs.worker_process), identical configurations trained once, progress and Stop usable from any thread or process."""
from __future__ import annotations

import collections
import os
import subprocess
import threading
import time
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..result import RunResult
from .procs import pid_alive
from ..safety import shared_limits, shared_mode
from .worker_process import WorkerProcess
from .store import RunStore

FINAL = ("done", "stopped", "failed")


RUN_MEMORY_GIB = 2.0
"""GPU memory one small run may take (CUDA context ~0.5 GiB, CIFAR on the device, ResNet-32
activations at batch 128, a captured graph's pool): the unit for worker processes per GPU."""
MAX_RUNS_PER_GPU = 8


def runs_per_gpu(cpus: int | None = None) -> int:
    """Runs that share one GPU: `$LTLAB_RUNS_PER_GPU`, else what the free memory of GPU 0 holds
    at RUN_MEMORY_GIB each, capped at MAX_RUNS_PER_GPU and at the CPU cores (each run's process
    launches its own kernels); 1 without CUDA."""
    if os.environ.get("LTLAB_RUNS_PER_GPU"):
        return max(int(os.environ["LTLAB_RUNS_PER_GPU"]), 1)
    import torch
    if not torch.cuda.is_available():
        return 1
    free = _free_gpu_memory()
    cores = cpus or os.cpu_count() or 1
    return max(1, min(int(free / 2**30 // RUN_MEMORY_GIB), MAX_RUNS_PER_GPU, cores))


def _free_gpu_memory() -> int:
    """Free bytes on GPU 0, through NVML when present (no CUDA context in this process)."""
    try:
        import pynvml
        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).free)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no NVML: ask CUDA itself
        import torch
        return int(torch.cuda.mem_get_info(0)[0])


def default_workers() -> int:
    """`$LTLAB_WORKERS`, else runs_per_gpu() jobs per visible CUDA GPU, else one (CPU)."""
    if os.environ.get("LTLAB_WORKERS"):
        return max(int(os.environ["LTLAB_WORKERS"]), 1)
    import torch
    return max(torch.cuda.device_count() * runs_per_gpu(), 1)


class JobManager:
    """Thread-safe queue: `submit` returns at once; a daemon thread hands runs to worker processes.

    Each of `max_workers` worker processes is started warm (torch already imported) and trains
    up to `reuse` runs before it is replaced; a failed or killed worker is replaced at once.
    Workers use `threads` CPU threads each (default: all cores but one, shared among the workers, so
    the server keeps a core for its pages).
    With `own_session`, workers get their own process group, so a Ctrl-C in the terminal reaches
    only the owner (the CLI sweep), which then stops the runs cleanly.
    On start, runs left queued/running by dead processes are marked `interrupted`; runs whose worker
    process is still alive (the server restarted, the worker did not) are adopted and watched.
    """

    def __init__(self, store: RunStore | None = None, max_workers: int | None = None,
                 save_checkpoints: bool = True, reuse: int = 20, warm: bool = True,
                 threads: int | None = None, stop_grace: float = 30.0, poll: float = 0.2,
                 own_session: bool = False):
        self.store = store or RunStore()
        self.max_workers = max_workers or default_workers()
        self.stop_grace, self.poll = stop_grace, poll
        gpus = self._gpu_count()
        threads = threads or max(((os.cpu_count() or 2) - 1) // self.max_workers, 1)
        self._workers = [WorkerProcess(i, self.store.path, self.store.root / "logs" / f"worker-{os.getpid()}-{i}.log",
                                       i % gpus if gpus > 1 else None, reuse, save_checkpoints, threads, own_session)
                         for i in range(self.max_workers)]
        self._cond = threading.Condition(threading.RLock())
        self._queue: collections.deque[str] = collections.deque()
        self._adopted: dict[str, int] = {}
        self._exiting: list[subprocess.Popen] = []
        self._trained: set[str] = set()
        self._terminated: set[int] = set()
        self._closed = False
        self.interrupted_on_start = self.store.recover()
        for row in self.store.list_runs(status="running"):
            pid = self.store.get(row["run_id"])["worker_pid"]
            if pid and pid != os.getpid():
                self._adopted[row["run_id"]] = pid
        for worker in self._workers if warm else []:
            worker.ensure()
        self._thread = threading.Thread(target=self._loop, name="ltcore-jobs", daemon=True)
        self._thread.start()

    # -- the API the dashboard uses ---------------------------------------------------------------
    def submit(self, config: Config | dict) -> str:
        """Queue a run and return its id at once; a finished identical run is returned, one in flight
        joined. `validate` checks every user path against the shared server's roots (the worker
        checks them again); a shared server also caps a run's epochs and the queue's length."""
        return self.request(config)[1]

    def request(self, config: Config | dict) -> tuple[str, str]:
        """`submit`, also saying what the request did: ("cached" | "joined" | "queued", run id).
        A finished or in-flight run is answered from one read of its row, without the queue's lock
        or the store's write lock (a class pressing Run on the same lesson joins it in parallel)."""
        config = Config.from_dict(config) if isinstance(config, dict) else config
        config.validate()
        if shared_mode():
            max_epochs, max_queue = shared_limits()
            if config.epochs > max_epochs:
                raise LTError(f"{config.epochs:,} epochs is more than this shared server allows for one run "
                              f"({max_epochs:,}, LTLAB_MAX_EPOCHS); choose fewer epochs")
            if len(self._queue) >= max_queue:
                raise LTError(f"the queue of this shared server is full ({max_queue} runs waiting, "
                              "LTLAB_MAX_QUEUE); wait for some to finish, then train again")
        known = self.store.standing(config)
        if known:
            return known
        # The store's write lock makes the claim atomic (of two requests, one queues, one joins); the
        # queue's lock is not held while it waits for SQLite, so status reads and the dispatcher go on.
        # A Stop between the claim and the append is a stop request, which the dispatcher honours.
        state, run_id = self.store.claim(config, os.getpid())
        if state == "queued":
            with self._cond:
                self._queue.append(run_id)
                self._cond.notify_all()
        return state, run_id

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
            running = [w.run_id for w in self._workers if w.busy] + list(self._adopted)
            queued = list(self._queue)
        return [r for r in running if (self.store.get(r) or {}).get("status") == "running"] + queued

    def shutdown(self, kill: bool = False, timeout: float = 30.0) -> None:
        """Stop handing out runs and let idle workers exit; with `kill`, terminate running workers
        too (their runs end `interrupted`). Without it, running workers finish their run first."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            busy = [(w.run_id, w.proc) for w in self._workers if w.busy and w.proc]
            procs = [w.retire() for w in self._workers]
        self._thread.join(timeout)
        for _, proc in busy if kill else []:
            proc.terminate()
        for proc in filter(None, procs if kill else []):
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for run_id, proc in busy if kill else []:
            self.store.mark_finished(run_id, "interrupted", "the server shut down", only_pid=proc.pid)

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
                    print(f"ltcore jobs: {type(exc).__name__}: {exc}", flush=True)
                self._cond.wait(self.poll)

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue or sum(w.busy for w in self._workers) + len(self._adopted) >= self.max_workers:
                return
            if worker.busy:
                continue
            run_id = self._next_ready()
            if run_id is None:                           # every queued run waits for its teacher
                return
            if self.store.stop_requested(run_id):
                self.store.mark_finished(run_id, "stopped", "stopped before it started")
                continue
            for _ in range(2):  # a worker that died while idle is replaced once
                proc = worker.ensure()
                self.store.mark_running(run_id, proc.pid, force=True)
                if worker.assign(run_id):
                    break
                worker.retire()
            self._trained.add(run_id)

    def _next_ready(self) -> str | None:
        """Take the first queued run that is not waiting for its teacher: a run distilling from a
        stored run (`kd_teacher` = a run id or `@<method>`, e.g. a lesson's `bkd` from its own `ce`) starts only once
        that run has left queued/running, so a teacher and its student can be queued together."""
        for run_id in self._queue:
            if not self._teacher_pending(run_id):
                self._queue.remove(run_id)
                return run_id
        return None

    def _teacher_pending(self, run_id: str) -> bool:
        from ..methods.distill import resolve_reference
        row = self.store.get(run_id)
        reference = str(dict(row["config"].get("method_params") or []).get("kd_teacher") or "").strip() if row else ""
        if not reference or reference.endswith(".pt") or "/" in reference or "\\" in reference:
            return False
        try:
            reference = resolve_reference(Config.from_dict(row["config"]), reference)
            teacher = self.store.get(self.store.resolve(reference))
        except LTError:                                  # unknown: the run itself says so when it starts
            return False
        return teacher is not None and teacher["status"] in ("queued", "running")

    def _reap(self) -> None:
        """Free the workers whose run ended; record workers that died without an outcome (crash, kill -9)
        and replace them; terminate a worker that ignores a Stop request for `stop_grace` seconds."""
        self._exiting = [p for p in self._exiting if p.poll() is None]
        for worker in self._workers:
            if not worker.busy:
                continue
            run_id, proc = worker.run_id, worker.proc
            code = proc.poll()
            if code is not None:
                worker.retire()
                self._record_crash(run_id, proc.pid, code, worker.log)
                if not self._closed:
                    worker.ensure()
                continue
            row = self.store.get(run_id)
            if row is None or row["status"] not in ("queued", "running") or row["worker_pid"] != proc.pid:
                # a run that ended without a result makes its worker exit: never hand it another run
                retired = worker.release() if row and row["has_result"] else worker.retire()
                if retired is not None:
                    self._exiting.append(retired)
                    if not self._closed:
                        worker.ensure()
            elif (row["stop_requested"] and time.time() - row["stop_requested"] > self.stop_grace
                  and proc.pid not in self._terminated):
                self._terminated.add(proc.pid)
                proc.terminate()
        for run_id, pid in list(self._adopted.items()):
            if not pid_alive(pid):
                del self._adopted[run_id]
                self.store.mark_finished(run_id, "interrupted", "its worker process ended without a result; "
                                         "re-run it", only_pid=pid)
            elif (self.store.get(run_id) or {}).get("status") not in ("queued", "running"):
                del self._adopted[run_id]

    def _record_crash(self, run_id: str, pid: int, code: int, worker_log: Path) -> None:
        if code < 0:
            message = f"the worker was killed (signal {-code}); re-run it"
            self.store.mark_finished(run_id, "interrupted", message, only_pid=pid)
        else:
            log = self.store.log_path(run_id)
            last = _last_line(log if log.exists() else worker_log)
            self.store.mark_finished(run_id, "failed", f"the worker exited with code {code}: {last}",
                                     only_pid=pid)


def _last_line(path: Path) -> str:
    try:
        lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return "no log"
    return (lines[-1][:300] if lines else "no output") + f" (log: {path})"
