"""A worker process of the job queue: one `python -m ltcore.runs.worker --serve` process, started
warm (torch imported) before a job arrives and reused for up to `reuse` runs; pinned to one GPU when there
are several."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class WorkerProcess:
    def __init__(self, index: int, db: Path, log: Path, gpu: int | None, reuse: int, save_checkpoints: bool,
                 threads: int | None = None, own_session: bool = False):
        self.index, self.db, self.log, self.gpu, self.threads = index, db, log, gpu, threads
        self.own_session = own_session
        self.reuse, self.save_checkpoints = max(reuse, 1), save_checkpoints
        self.proc: subprocess.Popen | None = None
        self.run_id: str | None = None
        self.runs = 0

    @property
    def busy(self) -> bool:
        return self.run_id is not None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> subprocess.Popen:
        """A live serving process (a new one if there is none)."""
        if not self.alive():
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT,
                                                                           os.environ.get("PYTHONPATH")])))
            if self.gpu is not None:
                env["CUDA_VISIBLE_DEVICES"] = str(self.gpu)
            if self.threads:
                env["LTLAB_WORKER_THREADS"] = str(self.threads)
            command = [sys.executable, "-m", "ltcore.runs.worker", "--serve", "--db", str(self.db)]
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "a") as out:
                self.proc = subprocess.Popen(command + ([] if self.save_checkpoints else ["--no-checkpoint"]),
                                             stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                             text=True, env=env, start_new_session=self.own_session)
            self.runs = 0
        return self.proc

    def assign(self, run_id: str) -> bool:
        """Hand `run_id` to the process; False if it died meanwhile (the caller retries on a new one)."""
        try:
            self.proc.stdin.write(run_id + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False
        self.run_id = run_id
        self.runs += 1
        return True

    def release(self) -> subprocess.Popen | None:
        """The run ended; a process that has served `reuse` runs is told to exit (returned for reaping)."""
        self.run_id = None
        if self.runs < self.reuse or self.proc is None:
            return None
        return self.retire()

    def retire(self) -> subprocess.Popen | None:
        """Close the process's input (it exits after its current run) and forget it."""
        proc, self.proc, self.run_id = self.proc, None, None
        if proc is not None and proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass
        return proc
