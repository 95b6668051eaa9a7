"""One job in its own process: `python -m ltcore.runs.worker RUN_ID --db PATH [--no-checkpoint]`.

The JobManager starts one per run, so a crash, an OOM or `kill -9` never touches the server. With
`--standby` the process imports torch/ltcore first and then waits for its run id on stdin, which hides
the import time (seconds) from the user; it exits quietly when stdin closes without one.
Exit code 0 when the run ended with a result (done/stopped/failed-by-divergence), 1 otherwise.
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ltcore.runs.worker")
    parser.add_argument("run_id", nargs="?", help="the run to train (omit with --standby)")
    parser.add_argument("--db", required=True, help="path of runs.sqlite")
    parser.add_argument("--no-checkpoint", action="store_true", help="do not save model weights")
    parser.add_argument("--standby", action="store_true", help="read the run id from stdin when ready")
    args = parser.parse_args(argv)
    from .execute import execute, install_sigterm
    from .store import RunStore

    install_sigterm()
    store = RunStore(args.db)
    run_id = args.run_id
    if args.standby:
        warm_up()
        run_id = sys.stdin.readline().strip()
        if not run_id:
            return 0
        redirect_output(store.log_path(run_id))
    result = execute(store, run_id, save_checkpoints=not args.no_checkpoint)
    print(f"run {run_id}: {store.get(run_id)['status']}", flush=True)
    return 0 if result is not None else 1


def warm_up() -> None:
    """Pay the first-use costs (the optimiser's lazy torch._dynamo import, about 2 s) before a job arrives."""
    import torch
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
