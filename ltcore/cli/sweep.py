"""`python -m ltcore sweep`: a grid of methods × ratios × seeds, or a parameter search, on the local
job queue or Ray; finished runs are reused from the store; prints mean ± std over seeds."""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from ..errors import LTError
from ..result import json_ready
from .options import add_train_parser_options, config_from_args
from .output import output_file_arg, print_data_warnings, write_output
from .reproduce import comma_list
from .runs import data_dir_arg, store_for


def add_sweep_parser(sub) -> None:
    """`sweep`: the train options plus lists of methods, ratios and seeds, a backend, and an optional
    parameter search."""
    from ..sweep import BACKENDS, SEARCHES

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
    from ..sweep import SweepSpec, parse_range

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


def check_sweep_data(spec, data_dir) -> None:
    """Load the sweep's data once before anything trains: its ratios refused as `train` refuses
    them (more than the largest class), and what the loader skipped said once."""
    from ..engine.trainer import prepare_data
    from .train import check_ratio

    data = prepare_data(spec.base, data_dir)
    check_ratio(spec.base, data, spec.ratios, "--ratios")
    print_data_warnings(data)


def cmd_sweep(args) -> int:
    """Runs already finished in the store are reused; the rest train on the chosen backend."""
    from ..sweep import TerminalBar, format_search, format_summary, plan, run_sweep

    args.data_dir = data_dir_arg(args.data_dir)
    output_file_arg(args.json, "--json")
    output_file_arg(args.csv, "--csv")
    spec = sweep_spec_from_args(args)
    spec.check_size(args.yes)
    if args.no_store:
        raise LTError("a sweep keeps its runs in the run store (it skips the finished ones): drop --no-store")
    if args.backend == "ray":  # before Ray starts: settings Tune would wait or retry on for ever
        from ..sweep.ray_tune import check_trial_options

        check_trial_options(args.cpus_per_trial, args.gpus_per_trial, args.max_failures)
    check_sweep_data(spec, args.data_dir)
    store = store_for(args.data_dir)
    todo, ids, cached = plan(spec, store)
    if args.backend == "ray":
        from ..sweep.ray_tune import precheck

        precheck(store, todo, args.address, args.cpus_per_trial, args.gpus_per_trial, args.max_failures)
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
