"""Command-line pieces: `python -m ltcore runs list|show|export|delete`, and the `train` command's
store options (`--no-store`, `--reuse`, `--tensorboard DIR`) with `train_from_args`."""
from __future__ import annotations

import argparse
import json
import os
import time

from ..config import Config
from ..errors import LTError
from ..result import RunResult
from .store import STATUSES, RunStore


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Add `runs` (list|show|export|delete) to an argparse subparsers object; handler: `run_command`."""
    runs = subparsers.add_parser("runs", help="list, show, export or delete stored runs")
    runs.add_argument("--db", help="store file (default: <data dir>/runs.sqlite; data dir = $LTLAB_DATA)")
    sub = runs.add_subparsers(dest="runs_command", required=True)
    listing = sub.add_parser("list", help="stored runs, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--dataset")
    listing.add_argument("--method")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = sub.add_parser("show", help="one run: config, status, metrics and history")
    show.add_argument("run_id", help="run id or a unique prefix")
    export = sub.add_parser("export", help="write runs.csv, history.csv and runs.json")
    export.add_argument("run_ids", nargs="*", help="run ids or prefixes (default: every finished run)")
    export.add_argument("--out", required=True, help="folder to write into")
    delete = sub.add_parser("delete", help="remove runs with their files")
    delete.add_argument("run_ids", nargs="+", help="run ids or prefixes")
    runs.set_defaults(func=run_command)
    return runs


def run_command(args) -> int:
    """Handle `runs ...`; LTError propagates for the caller to print as one line (exit 2)."""
    store = RunStore(args.db)
    if args.runs_command == "list":
        filters = {k: v for k, v in (("dataset", args.dataset), ("method", args.method)) if v}
        rows = store.list_runs(status=args.status, limit=args.limit, **filters)
        print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    elif args.runs_command == "show":
        print(format_run(store, store.resolve(args.run_id)))
    elif args.runs_command == "export":
        ids = [store.resolve(p) for p in args.run_ids] or [
            r["run_id"] for r in store.list_runs() if r["status"] in ("done", "stopped", "failed")]
        for path in store.export(ids, args.out):
            print(path)
    elif args.runs_command == "delete":
        for run_id in [store.resolve(p) for p in args.run_ids]:
            store.delete(run_id)
            print(f"deleted {run_id}")
    return 0


def _fmt(value, spec=".3f") -> str:
    return "-" if value is None else format(value, spec) if isinstance(value, float) else str(value)


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no runs stored yet (train one: python -m ltcore train ...)"
    head = f"{'run id':21} {'status':11} {'data':9} {'method':12} {'ratio':>6} {'epoch':>7} {'acc':>6} {'bal':>6} {'few':>6}  finished"
    lines = [head]
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["finished"])) if r["finished"] else "-"
        lines.append(f"{r['run_id']:21} {r['status']:11} {str(r['dataset'])[:9]:9} {str(r['method'])[:12]:12} "
                     f"{_fmt(r['ratio'], 'g'):>6} {str(r['epoch']) + '/' + str(r['epochs']):>7} "
                     f"{_fmt(r['overall_acc']):>6} {_fmt(r['balanced_acc']):>6} {_fmt(r['few_acc']):>6}  {when}")
    return "\n".join(lines)


def format_run(store: RunStore, run_id: str) -> str:
    row = store.get(run_id)
    lines = [f"run {run_id}  status {row['status']}  device {row['device'] or '-'}  code {row['code_version']}"]
    if row["error"]:
        lines.append(f"error: {row['error']}")
    lines.append("config: " + json.dumps({k: v for k, v in row["config"].items() if v not in ("", [], ())}))
    if row["has_result"]:
        r = store.load_result(run_id)
        lines.append(f"overall {r.overall_acc:.4f}  balanced {r.balanced_acc:.4f}  shots "
                     + "  ".join(f"{k} {_fmt(v, '.4f')}" for k, v in r.shot_acc.items())
                     + f"  ({r.epochs_completed} epochs, {r.wall_seconds:.1f} s)")
        lines.append("per-class acc: " + " ".join(_fmt(a, ".2f") for a in r.per_class_acc))
    history = store.history(run_id)
    if history:
        lines.append("epoch   loss      lr  train   test  balanced")
        for h in history:
            lines.append(f"{h['epoch']:>5} {h['loss']:6.3f} {h['lr']:7.4f} {h['train_acc']:6.3f} "
                         f"{h['test_acc']:6.3f} {h['balanced_acc']:6.3f}")
    return "\n".join(lines)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Store options for the `train` command."""
    parser.add_argument("--no-store", action="store_true", help="do not write the run to the run store")
    parser.add_argument("--reuse", action="store_true",
                        help="return a finished identical run from the store instead of training again")
    parser.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard event files under DIR")
    parser.add_argument("--db", help="store file (default: <data dir>/runs.sqlite)")


def train_from_args(config: Config, args, on_event=None, data_dir=None) -> RunResult:
    """What `train` runs: plain `train()` with `--no-store`, else `train_and_store` (+ TensorBoard)."""
    events = [on_event] if on_event else []
    if getattr(args, "tensorboard", None):
        from .tensorboard import tensorboard_callback
        events.append(tensorboard_callback(args.tensorboard, f"{config.run_id}"))

    def fan_out(event):
        for fn in events:
            fn(event)
    if getattr(args, "no_store", False):
        from ..train import train
        return train(config, on_event=fan_out, data_dir=data_dir)
    store = RunStore(getattr(args, "db", None))
    return train_and_store(config, store, fan_out, reuse=getattr(args, "reuse", False), data_dir=data_dir)


def train_and_store(config: Config, store: RunStore | None = None, on_event=None, reuse: bool = False,
                    data_dir=None) -> RunResult:
    """Train in this process, recording the run (history, result, checkpoint) in the store; a Stop
    from the dashboard is honoured. With `reuse`, a finished identical run is returned untrained."""
    from .execute import execute
    store = store or RunStore()
    state, run_id = store.claim(config.validate(), os.getpid(), force=not reuse)
    if state == "cached":
        return store.load_result(run_id)
    if state == "joined":
        raise LTError(f"run {run_id} is already queued or running in another process; wait for it "
                      "(python -m ltcore runs show) or pass --no-store")
    store.mark_running(run_id, os.getpid())
    result = execute(store, run_id, on_event=on_event, data_dir=data_dir)
    if result is None:
        row = store.get(run_id)
        raise LTError(f"run {run_id} {row['status']}: {row['error']}")
    return result
