"""Worker processes: training never runs in the server, so a crash, an OOM or `kill -9` never touches it.

`python -m ltcore.runs.worker RUN_ID --db PATH` trains one stored run and exits.
`python -m ltcore.runs.worker --serve --db PATH` (what the JobManager starts, one per slot) imports
torch once, then trains the run ids it reads from stdin one after another and exits at end of input,
after a failure, or when SIGTERM stops a run; its output goes to each run's log.
"""
from __future__ import annotations

import argparse
import os
import sys

NICE = 10
"""How much lower than the server a worker's CPU priority is (`$LTLAB_WORKER_NICE` overrides, 0 keeps
it equal): on a machine where training and the dashboard share the cores, pages stay responsive."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ltcore.runs.worker")
    parser.add_argument("run_id", nargs="?", help="the run to train (omit with --serve)")
    parser.add_argument("--db", required=True, help="path of runs.sqlite")
    parser.add_argument("--no-checkpoint", action="store_true", help="do not save model weights")
    parser.add_argument("--serve", action="store_true", help="train run ids read from stdin, one a line")
    args = parser.parse_args(argv)
    from .execute import Terminated, execute, install_sigterm
    from .store import RunStore

    install_sigterm()
    lower_priority()
    store = RunStore(args.db)
    if not args.serve:
        return 0 if execute(store, args.run_id, save_checkpoints=not args.no_checkpoint) else 1
    warm_up()
    for line in sys.stdin:
        run_id = line.strip()
        if not run_id:
            continue
        redirect_output(store.log_path(run_id))
        try:
            result = execute(store, run_id, save_checkpoints=not args.no_checkpoint, reraise=True)
        except (Terminated, KeyboardInterrupt):
            return 1
        print(f"run {run_id}: {store.get(run_id)['status']}", flush=True)
        if result is None:
            return 1  # a failed run may leave the device in a bad state: the next run gets a new process
    return 0


def lower_priority() -> None:
    """Yield the CPU to the server (and any other process at normal priority) under contention."""
    step = int(os.environ.get("LTLAB_WORKER_NICE", NICE))
    if step > 0:
        try:
            os.nice(step)
        except OSError:  # a platform without nice: train at the priority given
            pass


def warm_up() -> None:
    """Set the CPU thread count the manager chose, and pay the first-use costs (the optimiser's lazy
    torch._dynamo import, the metrics report's lazy scikit-learn import: about 2 s each) before a
    job arrives."""
    import sklearn.metrics  # noqa: F401
    import torch
    if os.environ.get("LTLAB_WORKER_THREADS"):
        threads = int(os.environ["LTLAB_WORKER_THREADS"])
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()


def redirect_output(path) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to the run's log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown (seconds with torch loaded); everything is on disk
