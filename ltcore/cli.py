"""Command line: `python -m ltcore train|datasets|models|methods|runs ...`.

Bad input (ranges, unknown names, missing data, unusable paths, an unreadable store) prints one
`error:` line and exits with code 2; SIGTERM marks the run in progress `interrupted` (exit 143).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import sys
from pathlib import Path

from .config import SCHEDULES, Config
from .data import default_data_dir
from .errors import LTError, Terminated
from .listings import add_listing_parsers
from .methods import PARAMS
from .recipes import RECIPES
from .reproduce import add_parser as add_reproduce_parser
from .reproduce import comma_list
from .result import json_ready
from .runs.cli import StoreRecorder, add_subparser, data_dir_arg, store_for
from .runs.tensorboard import tensorboard_writer
from .sweep import check_size, relative_accuracy_for
from .train import prepare_data, train
from .version import code_version

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"error: {message} (see `python -m ltcore {self.prog.split()[-1]} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def _parse_value(text: str, kind: str = ""):
    """A CLI string as the parameter's kind (int/float/str; "none" → None), guessed when unknown."""
    if text.lower() == "none":
        return None
    casts = {"int": (int,), "float": (float,), "str": ()}.get(kind, (int, float))
    for cast in casts:
        try:
            return cast(text)
        except ValueError:
            pass
    if kind in ("int", "float"):
        raise LTError(f"expected {'an integer' if kind == 'int' else 'a number'}, got {text!r}")
    return text


def method_params_table() -> dict:
    """Every method hyper-parameter and slot (ltcore.methods.PARAMS): name → spec with kind and help."""
    return PARAMS


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one configuration and print its per-class results")
    add_train_parser_options(p)
    p.set_defaults(handler=cmd_train)


def add_train_parser_options(p) -> None:
    """The options of one training configuration (shared by `train` and `sweep`)."""
    d = Config()
    p.add_argument("--dataset", default=d.dataset, help="data set name (see `datasets`)")
    p.add_argument("--data-path", default="", help="folder of class sub-folders for --dataset imagefolder")
    p.add_argument("--data-dir", default=None, help="where data sets live/download (env LTLAB_DATA)")
    p.add_argument("--profile", default=d.profile, help="imbalance profile: exp, step or none")
    p.add_argument("--ratio", type=float, default=d.ratio, help="imbalance ratio ρ = n_max/n_min (≥ 1)")
    p.add_argument("--minority-fraction", type=float, default=d.minority_fraction, help="μ of the step profile")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--recipe", default="quick", help=f"training recipe: {', '.join(RECIPES.names())}")
    p.add_argument("--method", default=d.method, help="method preset (see `methods`)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="method hyper-parameter override (repeatable)")
    p.add_argument("--model", default=None, help="model (see `models`); default: the data set's")
    for name, typ in (("epochs", int), ("batch-size", int), ("lr", float), ("momentum", float),
                      ("weight-decay", float), ("warmup-epochs", int), ("lr-gamma", float)):
        p.add_argument(f"--{name}", type=typ, default=None)
    p.add_argument("--schedule", default=None, help=f"lr schedule: {', '.join(SCHEDULES)}")
    p.add_argument("--milestones", default=None, help="comma-separated epochs for multistep, e.g. 160,180")
    p.add_argument("--augment", default=None, help="auto, none, crop or crop_flip")
    p.add_argument("--device", default=d.device, help="auto (cuda → mps → cpu), cpu, cuda or mps")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--pretrained", action="store_true", help="resnet18: start from torchvision's ImageNet "
                   "weights, read offline from the torch hub cache ($TORCH_HOME/hub/checkpoints)")
    p.add_argument("--nc-every", type=int, default=None, help="neural-collapse metrics every N epochs")
    p.add_argument("--json", default=None, metavar="FILE", help="write the full result as JSON")
    p.add_argument("--no-store", action="store_true", help="do not record the run in the run store")
    p.add_argument("--tensorboard", default=None, metavar="DIR", help="also write TensorBoard event files")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    p.add_argument("--relative", action="store_true", help="also train (or reuse from the store) the "
                   "balanced references and report relative accuracy (Zhang et al. survey §4.1)")
    p.add_argument("--yes", action="store_true", help="start very large work (more than "
                   "the limits of `ltcore.sweep.check_size`) without asking")
    taken = {a.dest for a in p._actions}
    for name, spec in sorted(method_params_table().items()):
        if name not in taken:
            p.add_argument(f"--{name.replace('_', '-')}", dest=f"mp_{name}", default=None, metavar=spec.kind.upper(),
                           help=f"method: {spec.help}")


def config_from_args(args) -> Config:
    """Recipe values, then explicit flags, then method params → a validated Config."""
    values = dict(RECIPES.get(args.recipe).obj)
    flat = {"dataset": args.dataset, "data_path": args.data_path, "profile": args.profile,
            "ratio": args.ratio, "minority_fraction": args.minority_fraction, "seed": args.seed,
            "method": args.method, "device": args.device, "compile": args.compile,
            "pretrained": getattr(args, "pretrained", False)}
    values.update(flat)
    for key in ("model", "epochs", "batch_size", "lr", "momentum", "weight_decay", "warmup_epochs",
                "lr_gamma", "schedule", "augment", "nc_every"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.milestones is not None:
        try:
            values["milestones"] = tuple(int(m) for m in args.milestones.split(",") if m.strip())
        except ValueError:
            raise LTError(f"--milestones takes comma-separated epochs, got {args.milestones!r}") from None
    table = method_params_table()
    params = {}
    for item in args.param:
        if "=" not in item:
            raise LTError(f"--param takes NAME=VALUE, got {item!r}")
        name, text = (part.strip() for part in item.split("=", 1))
        params[name] = _parse_value(text, table[name].kind if name in table else "")
    for name, spec in table.items():
        text = getattr(args, f"mp_{name}", None)
        if text is not None:
            params[name] = _parse_value(text, spec.kind)
    values["method_params"] = params
    return Config.from_dict(values).validate()


def _fmt(x, pct=True) -> str:
    return "—" if x is None else (f"{100 * x:6.2f}" if pct else f"{x}")


def _ratio_text(result) -> str:
    """ρ as asked, and the ratio the data really has when they differ by more than rounding."""
    asked = result.config.ratio
    counts = [c for c in result.class_counts if c > 0]
    actual = max(counts) / min(counts) if counts else asked
    return f"ρ={asked:g}" if abs(actual - asked) <= 0.05 * asked else f"ρ={asked:g} (actual {actual:.3g})"


def render_result(result) -> str:
    """The readable table: per-class counts and accuracies, many/medium/few, wall time."""
    m = result.metrics
    lines = [f"run {result.run_id}  {result.config.dataset} {result.config.profile} {_ratio_text(result)}"
             f"  method {result.config.method}  device {result.device}  status {result.status}",
             f"{'class':>12} {'train n':>8} {'group':>7} {'test acc %':>10}"]
    for name, n, g, a in zip(result.class_names, result.class_counts, m["shot_groups"], m["per_class_acc"]):
        lines.append(f"{name[:12]:>12} {n:>8} {g:>7} {_fmt(a):>10}")
    shots = m["shot_acc"]
    lines.append(f"overall {_fmt(m['overall_acc']).strip()}%   balanced {_fmt(m['balanced_acc']).strip()}%   "
                 f"many {_fmt(shots['many']).strip()}   medium {_fmt(shots['medium']).strip()}   "
                 f"few {_fmt(shots['few']).strip()}   ({m['shot_rule']})")
    lines.append(f"train images {sum(result.class_counts)}   epochs {result.epochs_completed}   "
                 f"wall {result.wall_seconds:.2f} s")
    rel = m.get("relative_acc")
    if rel and rel.get("value") is not None:
        lines.append(f"relative accuracy {rel['value']:.3f} = {100 * rel['a_t']:.2f} / {100 * rel['a_u']:.2f} "
                     f"(upper reference: {rel['upper_reference']})")
    init = result.extras.get("init_from")
    if init:
        lines.append(f"init_from: loaded {init['loaded']} of {init.get('of', '?')} tensors from {init['path']}"
                     + (f" (kept random: {', '.join(init['skipped'][:5])})" if init.get("skipped") else ""))
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)


def _progress(event: dict) -> None:
    if event["type"] == "epoch":
        few = event.get("few_acc")
        sys.stderr.write(f"epoch {event['epoch']:>4}/{event['epochs']}  loss {event['loss']:.4f}  "
                         f"bal acc {100 * event['balanced_acc']:.2f}%  few {_fmt(few).strip()}  "
                         f"({event['seconds']:.2f} s)\n")


def output_file_arg(path, flag: str):
    """An output file option (`--json`, `--csv`) checked before any training starts."""
    if path is None:
        return None
    target = Path(path).expanduser()
    if target.is_dir():
        raise LTError(f"{flag} {path} is a folder; give a file name, e.g. {target / 'result.json'}")
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise LTError(f"{flag} {path}: {parent} is a file, not a folder; give another file name")
    return path


def write_output(path, text: str, flag: str, kept: str) -> None:
    """Write an output file; a failure says so in one line and where the results still are."""
    try:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        Path(path).expanduser().write_text(text)
    except OSError as exc:
        raise LTError(f"cannot write {flag} {path} ({exc.strerror or exc}); {kept}") from None
    print(f"wrote {path}")


def cmd_train(args) -> int:
    args.data_dir = data_dir_arg(args.data_dir)
    output_file_arg(args.json, "--json")
    config = config_from_args(args)
    check_size(1, config.epochs, args.yes)
    callbacks = [] if args.quiet else [_progress]
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


def add_sweep_parser(sub) -> None:
    """`sweep`: the train options plus lists of methods, ratios and seeds, a backend, and an optional
    parameter search."""
    from .sweep import BACKENDS, SEARCHES

    p = sub.add_parser("sweep", help="train a grid of methods × ratios × seeds (locally or on Ray); "
                       "print mean ± std over seeds")
    add_train_parser_options(p)
    p.add_argument("--methods", default=None, help="comma-separated presets, e.g. ce,balanced_softmax,ldam_drw")
    p.add_argument("--ratios", default=None, help="comma-separated imbalance ratios (default: --ratio)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--csv", default=None, metavar="FILE", help="write the summary table as CSV")
    p.add_argument("--backend", default="local", choices=list(BACKENDS),
                   help="; ".join(f"{k}: {v}" for k, v in BACKENDS.items()))
    p.add_argument("--workers", type=int, default=None,
                   help="local: runs at once (default $LTLAB_WORKERS, else one per GPU, else 1)")
    p.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="ray: join this cluster (default: start a local Ray instance owned by this command)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="ray: CPUs each trial reserves (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0,
                   help="ray: GPUs each trial reserves; fractions let runs share a GPU (0.25 = four per GPU)")
    p.add_argument("--max-failures", type=int, default=2, help="ray: retries of a trial whose worker died")
    p.add_argument("--search", default=None, choices=list(SEARCHES),
                   help="parameter search over --param NAME=LOW:HIGH[:log] ranges; "
                   "the objective is balanced accuracy on the validation split")
    p.add_argument("--samples", type=int, default=0, help="parameter values to try (per method, ratio and seed)")
    p.add_argument("--asha", action="store_true", help="ray: stop poor trials of a search early (ASHA)")
    p.add_argument("--grace-epochs", type=int, default=1, help="ASHA: epochs every trial gets first")
    p.add_argument("--spec", default=None, metavar="FILE",
                   help="read the whole sweep from a JSON file (what the dashboard's Sweep page writes)")
    p.set_defaults(handler=cmd_sweep)


def sweep_spec_from_args(args):
    """The SweepSpec of a `sweep` command line (or of its --spec file)."""
    from .sweep import SweepSpec, parse_range

    if args.spec:
        try:
            return SweepSpec.from_dict(json.loads(Path(args.spec).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LTError(f"cannot read the sweep spec {args.spec}: {exc}") from None
    if not args.methods:
        raise LTError("sweep needs --methods (comma-separated presets, e.g. ce,balanced_softmax) or --spec FILE")
    ranges = [r for r in (parse_range(p) for p in args.param) if r is not None]
    args.param = [p for p in args.param if parse_range(p) is None]
    base = config_from_args(args)
    return SweepSpec(base, tuple(comma_list(args.methods, str, "--methods")),
                     tuple(comma_list(args.ratios, float, "--ratios") if args.ratios else [base.ratio]),
                     tuple(comma_list(args.seeds, int, "--seeds")), tuple(ranges),
                     args.search or ("random" if ranges else "grid"), args.samples, args.asha, args.grace_epochs)


def cmd_sweep(args) -> int:
    """Runs already finished in the store are reused; the rest train on the chosen backend."""
    from .sweep import TerminalBar, format_search, format_summary, plan, run_sweep

    args.data_dir = data_dir_arg(args.data_dir)
    output_file_arg(args.json, "--json")
    output_file_arg(args.csv, "--csv")
    spec = sweep_spec_from_args(args)
    check_size(len(spec.methods) * len(spec.ratios) * len(spec.seeds) * max(spec.samples, 1),
               spec.base.epochs, args.yes)
    if args.no_store:
        raise LTError("a sweep keeps its runs in the run store (it skips the finished ones): drop --no-store")
    store = store_for(args.data_dir)
    todo, ids, cached = plan(spec, store)
    if spec.search != "optuna":
        sys.stderr.write(f"sweep: {len(ids)} run(s), {len(cached)} already in the store, submitting {len(todo)} "
                         f"to {args.backend}" + (f" at {args.address}" if args.address else "") + "\n")
    bar = TerminalBar(quiet=args.quiet)
    try:
        outcome = run_sweep(spec, store, args.backend, workers=args.workers, address=args.address,
                            cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial,
                            max_failures=args.max_failures, on_progress=bar)
    finally:
        bar.close()
    bad = {rid: s for rid, s in outcome.statuses.items() if s not in ("done",)}
    for rid, status in bad.items():
        row = store.get(rid) or {}
        sys.stderr.write(f"run {rid}: {status}" + (f" ({row.get('error')})" if row.get("error") else "") + "\n")
    stopped = "sweep stopped before the end; run the same command again to train the rest\n"
    if not outcome.results:
        sys.stderr.write("no finished runs to summarise\n" + ("" if outcome.complete else stopped))
        return 130 if not outcome.complete else 1
    rows = outcome.summary()
    print(format_summary(rows))
    search_rows = outcome.search() if spec.is_search else []
    if search_rows:
        print()
        print(format_search(search_rows, [r.name for r in spec.ranges]))
    kept = "the runs are kept in the store (`python -m ltcore runs list`)"
    if args.csv:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_output(args.csv, text.getvalue(), "--csv", kept)
    if args.json:
        write_output(args.json, json.dumps(json_ready({
            "spec": spec.to_dict(), "summary": rows, "search": search_rows,
            "runs": [r.to_dict() for r in outcome.results.values()]}), indent=1, default=str), "--json", kept)
    if not outcome.complete:
        sys.stderr.write(stopped)
        return 130
    return 1 if any(s in ("failed", "interrupted") for s in bad.values()) else 0


def _stored_or_trained(config: Config, args, store):
    """A finished identical run from the store, else a new training (recorded there)."""
    if store is not None:
        row = store.get(store.run_id_for(config))
        if row and row["status"] == "done" and row["has_result"]:
            return store.load_result(row["run_id"])
    return _train_one(config, args, store)


def check_ratio(config: Config, data) -> None:
    """Refuse an imbalance ratio the data cannot give at all (ρ above the largest class: the
    smallest class would hold less than one image), with the real figure."""
    if config.profile in ("none",) or config.balanced_total:
        return
    largest = max(data.counts)
    if config.ratio > largest:
        raise LTError(f"imbalance ratio {config.ratio:g} is more than {config.dataset} can give: its largest "
                      f"class keeps {largest} images and the smallest at least 1, so this data gives "
                      f"{data.actual_ratio:.3g}×; choose --ratio {largest} or less")


def _train_one(config: Config, args, store, callbacks=()):
    """Train in this process; with a store, record history, result and checkpoint there (a Stop
    from the dashboard is honoured, a failure is recorded with its message, SIGTERM or Ctrl-C
    leave it `interrupted`). Without a store nothing is written: a stage-1 model is reused from
    the data folder when one is there, never saved."""
    data = prepare_data(config, args.data_dir)  # bad data input fails here, before the store is touched
    check_ratio(config, data)
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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ltcore", description="Long-Tail Lab core: train and compare "
                           "long-tailed learning methods.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_train_parser(sub)
    add_sweep_parser(sub)
    add_reproduce_parser(sub)
    add_listing_parsers(sub)
    add_subparser(sub)
    return parser


def _terminate(signum, frame):
    raise Terminated()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv=None) -> int:
    """Run one command. Every failure is one `error:` line: LTError (what to change) exits 2;
    SIGTERM 143, Ctrl-C 130; a closed pipe (`runs list | head`) ends quietly."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (tests, notebooks): keep the default
        previous = None
    try:
        code = args.handler(args)
        sys.stdout.flush()
        return code
    except LTError as exc:
        sys.stderr.write(f"error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C); a run in progress is marked interrupted\n")
        return 130
    except Terminated:
        sys.stderr.write("error: terminated (SIGTERM); a run in progress is marked interrupted\n")
        return 143
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback with LTLAB_DEBUG=1
        if os.environ.get("LTLAB_DEBUG"):
            raise
        sys.stderr.write(f"error: internal error {type(exc).__name__}: {_one_line(exc)[:300]} "
                         "(run again with LTLAB_DEBUG=1 for the traceback, and please report it)\n")
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """The reader of stdout went away: send what is left to /dev/null so exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
