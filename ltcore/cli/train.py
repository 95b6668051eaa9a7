"""`python -m ltcore train`: train one configuration in this process, print its per-class results,
and record the run in the store (unless `--no-store`; a Stop from the dashboard is honoured)."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import Config
from ..data import default_data_dir
from ..errors import LTError, Terminated
from ..result import json_ready
from ..runs.tensorboard import tensorboard_writer
from ..sweep import check_size, relative_accuracy_for
from ..engine.trainer import prepare_data, train
from ..version import code_version
from .options import add_train_parser_options, config_from_args
from .output import output_file_arg, print_data_warnings, print_progress, render_result, write_output
from .runs import StoreRecorder, data_dir_arg, store_for


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one configuration and print its per-class results")
    add_train_parser_options(p)
    p.set_defaults(handler=cmd_train)


def cmd_train(args) -> int:
    args.data_dir = data_dir_arg(args.data_dir)
    output_file_arg(args.json, "--json")
    config = config_from_args(args)
    check_size(1, config.epochs, args.yes)
    callbacks = [] if args.quiet else [print_progress]
    if args.tensorboard:
        callbacks.append(tensorboard_writer(args.tensorboard, config))
    store = None if args.no_store else store_for(args.data_dir)
    result = _train_one(config, args, store, callbacks)
    if args.relative and result.status == "done":
        result.metrics["relative_acc"] = relative_accuracy_for(
            result, train_fn=lambda cfg: _stored_or_trained(cfg, args, store))
    print(render_result(result))
    if args.json:
        kept = ("the run is kept in the store (`python -m ltcore runs show "
                f"{result.run_id}`)" if store is not None else "the table above has the results")
        write_output(args.json, json.dumps(json_ready(result.to_dict()), indent=1), "--json", kept)
    return 0 if result.status != "failed" else 1


def _stored_or_trained(config: Config, args, store):
    """A finished identical run from the store, else a new training (recorded there)."""
    if store is not None:
        row = store.get(store.run_id_for(config))
        if row and row["status"] == "done" and row["has_result"]:
            return store.load_result(row["run_id"])
    return _train_one(config, args, store)


def check_ratio(config: Config, data, ratios=None, flag: str = "--ratio") -> None:
    """Refuse an imbalance ratio the data cannot give at all (ρ above the largest class: the
    smallest class would hold less than one image), with the real figure. `ratios`: every ratio of
    a sweep (default: the config's own), all checked against the same data before anything trains."""
    if config.profile in ("none",) or config.balanced_total:
        return
    largest = max(data.counts)
    too_large = [r for r in (ratios or (config.ratio,)) if r > largest]
    if too_large:
        raise LTError(f"imbalance ratio {max(too_large):g} is more than {config.dataset} can give: its largest "
                      f"class keeps {largest} images and the smallest at least 1, so this data gives at most "
                      f"{largest}×; choose {flag} {largest} or less")


def _train_one(config: Config, args, store, callbacks=()):
    """Train in this process; with a store, record history, result and checkpoint there (a Stop
    from the dashboard is honoured, a failure is recorded with its message, SIGTERM or Ctrl-C
    leave it `interrupted`). Without a store nothing is written: a stage-1 model is reused from
    the data folder when one is there, never saved."""
    data = prepare_data(config, args.data_dir)  # bad data input fails here, before the store is touched
    check_ratio(config, data)
    print_data_warnings(data)
    recorder = None
    if store is not None:
        recorder = StoreRecorder(config, store)
        callbacks = [*callbacks, recorder.on_event]
        root = store.checkpoint_root(recorder.run_id)
    else:
        root = Path(args.data_dir or default_data_dir()).expanduser() / "checkpoints" / code_version()

    def on_event(event):
        for cb in callbacks:
            cb(event)

    try:
        result = train(config, on_event=on_event, data=data, data_dir=args.data_dir,
                       should_stop=recorder.should_stop if recorder else None,
                       find_run=lambda ref: (store or store_for(args.data_dir)).run_model(ref),
                       checkpoint_root=root, save_checkpoints=store is not None)
    except LTError as exc:
        if recorder:
            recorder.fail(str(exc))
        raise
    except (Terminated, KeyboardInterrupt) as exc:
        if recorder:
            recorder.fail(f"interrupted ({'SIGTERM' if isinstance(exc, Terminated) else 'Ctrl-C'}) "
                          "in the train command; run it again", "interrupted")
        raise
    if recorder:
        recorder.finish(result)
    return result
