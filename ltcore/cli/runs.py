"""Command-line pieces: `python -m ltcore runs list|show|export|delete`, and `store_recorder`, which
the `train` command uses to record its run in the store (unless `--no-store`)."""
from __future__ import annotations

import argparse
import atexit
import json
import os
import time
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..result import RunResult, json_ready
from ..runs.store import STATUSES, RunStore


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Add `runs` (list|show|export|delete) to an argparse subparsers object; `handler` and `func`
    are both `run_command`."""
    runs = subparsers.add_parser("runs", help="list, show, export, tag or delete stored runs")
    runs.add_argument("--db", help="store file (default: <data dir>/runs.sqlite; data dir = $LTLAB_DATA)")
    runs.add_argument("--data-dir", help="data folder whose runs.sqlite to use (default: $LTLAB_DATA)")
    sub = runs.add_subparsers(dest="runs_command", required=True)
    listing = sub.add_parser("list", help="stored runs, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--dataset")
    listing.add_argument("--method")
    listing.add_argument("--tag", help="only runs with this tag")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = sub.add_parser("show", help="one run: config, status, metrics and history")
    show.add_argument("run_id", help="run id or a unique prefix")
    export = sub.add_parser("export", help="write runs.csv, history.csv and runs.json")
    export.add_argument("run_ids", nargs="*", help="run ids or prefixes (default: every finished run)")
    export.add_argument("--out", required=True, help="folder to write into")
    tag = sub.add_parser("tag", help="add a tag to runs (or remove it with --remove); `list --tag` filters")
    tag.add_argument("tag", help="the tag (1–40 characters, no commas)")
    tag.add_argument("run_ids", nargs="+", help="run ids or prefixes")
    tag.add_argument("--remove", action="store_true", help="remove the tag instead")
    delete = sub.add_parser("delete", help="remove runs with their files")
    delete.add_argument("run_ids", nargs="+", help="run ids or prefixes")
    runs.set_defaults(handler=run_command, func=run_command)
    return runs


def run_command(args) -> int:
    """Handle `runs ...`; LTError propagates for the caller to print as one line (exit 2). Runs
    left queued/running by processes that no longer exist (a killed `train`) are first marked
    `interrupted`, so the listing tells the truth without a dashboard."""
    if args.db and Path(args.db).expanduser().is_dir():
        raise LTError(f"--db {args.db} is a folder; give the runs.sqlite file (or use --data-dir)")
    store = RunStore(args.db) if args.db else store_for(data_dir_arg(getattr(args, "data_dir", None)))
    store.recover()
    if args.runs_command == "list":
        filters = {k: v for k, v in (("dataset", args.dataset), ("method", args.method)) if v}
        rows = store.list_runs(status=args.status, limit=None if args.tag else args.limit, **filters)
        if args.tag:
            rows = [r for r in rows if args.tag in r["tags"]][:args.limit]
        print(json.dumps(json_ready(rows), indent=1) if args.json else format_table(rows))
    elif args.runs_command == "show":
        print(format_run(store, store.resolve(args.run_id)))
    elif args.runs_command == "export":
        ids = [store.resolve(p) for p in args.run_ids] or [
            r["run_id"] for r in store.list_runs() if r["status"] in ("done", "stopped", "failed")]
        for path in store.export(ids, args.out):
            print(path)
    elif args.runs_command == "tag":
        ids = [store.resolve(p) for p in args.run_ids]
        store.tag(ids, args.tag, remove=args.remove)
        print(f"{'removed' if args.remove else 'added'} tag {args.tag!r} {'from' if args.remove else 'to'} "
              f"{len(ids)} run(s)")
    elif args.runs_command == "delete":
        for run_id in [store.resolve(p) for p in args.run_ids]:
            store.delete(run_id)
            print(f"deleted {run_id}")
    return 0


def _fmt(value, spec=".3f") -> str:
    """A number in `spec`, or "-" when absent (None) — ints are numbers too."""
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no runs stored yet (train one: python -m ltcore train ...)"
    head = (f"{'run id':21} {'status':11} {'data':9} {'method':12} {'ratio':>6} {'epoch':>7} "
            f"{'acc':>6} {'bal':>6} {'few':>6}  finished")
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
        lines.append(f"overall {_fmt(r.overall_acc, '.4f')}  balanced {_fmt(r.balanced_acc, '.4f')}  shots "
                     + "  ".join(f"{k} {_fmt(v, '.4f')}" for k, v in r.shot_acc.items())
                     + f"  ({r.epochs_completed} epochs, {_fmt(r.wall_seconds, '.1f')} s)")
        lines.append("per-class acc: " + " ".join(_fmt(a, ".2f") for a in r.per_class_acc))
    history = store.history(run_id)
    if history:
        lines.append("epoch   loss      lr  train   test  balanced")
        for h in history:  # train_acc is None where it is not measured (multi-expert heads)
            lines.append(f"{h.get('epoch', '-'):>5} {_fmt(h.get('loss'), '6.3f'):>6} {_fmt(h.get('lr'), '7.4f'):>7} "
                         f"{_fmt(h.get('train_acc'), '6.3f'):>6} {_fmt(h.get('test_acc'), '6.3f'):>6} "
                         f"{_fmt(h.get('balanced_acc'), '6.3f'):>6}")
    return "\n".join(lines)


class StoreRecorder:
    """Records an in-process `train()` of the CLI in the store: history per epoch, the dashboard's
    Stop honoured through `should_stop`, result + checkpoint on `finish`. If the command ends before
    `finish` (an error, Ctrl-C), the run is marked `interrupted` at exit."""

    def __init__(self, config: Config, store: RunStore):
        from ..runs.execute import StopPoll
        self.store, self.config = store, config
        state, self.run_id = store.claim(config, os.getpid(), force=True)
        if state == "joined":
            raise LTError(f"run {self.run_id} is already queued or running in another process "
                          "(the dashboard?); wait for it, or pass --no-store")
        store.mark_running(self.run_id, os.getpid())
        self.should_stop = StopPoll(store, self.run_id)
        self.finished = False
        atexit.register(self._abandoned)

    def on_event(self, event: dict) -> None:
        from ..runs.execute import record_event
        record_event(self.store, self.run_id, event)

    def finish(self, result: RunResult, save_checkpoint: bool = True) -> str:
        """Store the result (and the model's weights for done/stopped runs); returns the run id."""
        from ..engine.checkpoints import save_checkpoint as save
        self.finished = True
        if not self.store.replaces(self.run_id, result.status):  # the earlier finished result stays
            self.store.mark_finished(self.run_id, result.status, result.error or "stopped before the end")
            return self.run_id
        checkpoint = None
        if save_checkpoint and result.model is not None and result.status in ("done", "stopped"):
            checkpoint = save(self.config, result.model, self.store.checkpoint_root(self.run_id))
        self.store.save_result(result, self.run_id, checkpoint)
        self.finished = True
        return self.run_id

    def fail(self, message: str, status: str = "failed") -> None:
        self.store.mark_finished(self.run_id, status, message, only_pid=os.getpid())
        self.finished = True

    def _abandoned(self) -> None:
        if not self.finished:
            try:
                self.fail("the train command ended before the run finished (see its output)", "interrupted")
            except LTError:  # the store itself failed (disk full): the command already said so
                pass


def data_dir_arg(data_dir):
    """`--data-dir` as given, refused when it names something that is not a folder."""
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise LTError(f"--data-dir {data_dir} is a file, not a folder; give a folder (it holds the "
                      "data sets and runs.sqlite)")
    return data_dir


def store_for(data_dir=None) -> RunStore:
    """The store in `data_dir` (the CLI's --data-dir), else in $LTLAB_DATA."""
    return RunStore(Path(data_dir).expanduser() / "runs.sqlite" if data_dir else None)


def store_recorder(config: Config, data_dir=None) -> StoreRecorder:
    """The CLI `train` command's recorder, on the store in `data_dir` (default: $LTLAB_DATA)."""
    return StoreRecorder(config, store_for(data_dir))
