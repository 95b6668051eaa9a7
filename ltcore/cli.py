"""Command line: `python -m ltcore train|datasets|models|methods|runs ...`.

Bad input (ranges, unknown names, missing data) prints one `error:` line and exits with code 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from .config import SCHEDULES, Config
from .errors import LTError
from .listings import add_listing_parsers
from .methods import PARAMS
from .recipes import RECIPES
from .reproduce import add_parser as add_reproduce_parser
from .runs.cli import StoreRecorder, add_subparser, store_for
from .runs.tensorboard import tensorboard_writer
from .sweep import relative_accuracy_for
from .train import train

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


def render_result(result) -> str:
    """The readable table: per-class counts and accuracies, many/medium/few, wall time."""
    m = result.metrics
    lines = [f"run {result.run_id}  {result.config.dataset} {result.config.profile} ρ={result.config.ratio:g}"
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
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)


def _progress(event: dict) -> None:
    if event["type"] == "epoch":
        few = event.get("few_acc")
        sys.stderr.write(f"epoch {event['epoch']:>4}/{event['epochs']}  loss {event['loss']:.4f}  "
                         f"bal acc {100 * event['balanced_acc']:.2f}%  few {_fmt(few).strip()}  "
                         f"({event['seconds']:.2f} s)\n")


def cmd_train(args) -> int:
    config = config_from_args(args)
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
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=1))
        print(f"wrote {args.json}")
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


def _split(text: str, cast, flag: str) -> list:
    try:
        values = [cast(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LTError(f"{flag} takes a comma-separated list, got {text!r}") from None
    if not values:
        raise LTError(f"{flag} is empty")
    return values


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
    return SweepSpec(base, tuple(_split(args.methods, str, "--methods")),
                     tuple(_split(args.ratios, float, "--ratios") if args.ratios else [base.ratio]),
                     tuple(_split(args.seeds, int, "--seeds")), tuple(ranges),
                     args.search or ("random" if ranges else "grid"), args.samples, args.asha, args.grace_epochs)


def cmd_sweep(args) -> int:
    """Runs already finished in the store are reused; the rest train on the chosen backend."""
    from .sweep import TerminalBar, format_search, format_summary, plan, run_sweep

    spec = sweep_spec_from_args(args)
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
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")
    if args.json:
        Path(args.json).write_text(json.dumps({"spec": spec.to_dict(), "summary": rows, "search": search_rows,
                                               "runs": [r.to_dict() for r in outcome.results.values()]},
                                              indent=1, default=str))
        print(f"wrote {args.json}")
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


def _train_one(config: Config, args, store, callbacks=()):
    """Train in this process; with a store, record history, result and checkpoint there (a Stop
    from the dashboard is honoured, a failure is recorded with its message)."""
    recorder = None
    if store is not None:
        recorder = StoreRecorder(config, store)
        callbacks = [*callbacks, recorder.on_event]

    def on_event(event):
        for cb in callbacks:
            cb(event)

    try:
        result = train(config, on_event=on_event, data_dir=args.data_dir,
                       should_stop=recorder.should_stop if recorder else None,
                       find_run=lambda ref: (store or store_for(args.data_dir)).run_model(ref))
    except LTError as exc:
        if recorder:
            recorder.fail(str(exc))
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except LTError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
