"""`python -m ltcore reproduce TABLE`: the command's options, and the command itself (the table's
configs, training what the store lacks, the report printed and written)."""
from __future__ import annotations

import os
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..sweep import check_size
from ..reproduce.report import folder_note, format_markdown, format_preset_table, summarise, with_note, write_outputs
from ..reproduce.runners import run_local, run_ray, stored_outcomes, warm_unlabelled
from ..reproduce.tables import TABLES, inapplicable, table_configs


def add_parser(sub) -> None:
    """`reproduce TABLE`: the options that shrink a table for a smoke run, and where to write."""
    p = sub.add_parser("reproduce", help="train a paper table (what the store lacks) and print ours "
                       "vs published side by side")
    p.add_argument("table", choices=sorted(TABLES), help="; ".join(f"{k}: {v.description}" for k, v in TABLES.items()))
    p.add_argument("--dataset", default=None, help="train on another data set (e.g. synthetic_cifar offline: "
                   "a smoke table, published column empty)")
    p.add_argument("--data-path", default="", metavar="DIR", help="train on an image folder with train/ and "
                   "test/ class sub-folders (e.g. CIFAR-10 as image files; --dataset imagefolder); its test/ "
                   "is the test set")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="fewer epochs (milestones scale along)")
    p.add_argument("--methods", default=None, help="comma-separated presets (default: the table's; mnist1d-lt: "
                   "every preset but those that need a file of yours)")
    p.add_argument("--ratios", default=None, help="comma-separated imbalance ratios (default: 100,50,10)")
    p.add_argument("--eval-every", type=int, default=None, help="test evaluation every N epochs (and the last)")
    p.add_argument("--backend", default="local", choices=("local", "ray"), help="where runs train: local (this "
                   "machine's job queue, --workers at once) or ray (Ray Tune trials, the sweep API's Ray backend)")
    p.add_argument("--workers", type=int, default=None, help="local: runs at once, each with cores // N CPU threads "
                   "(default: LTLAB_RUNS_PER_GPU or what GPU memory allows, per GPU; 1 on a CPU)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--data-dir", default=None, help="data and run store folder (env LTLAB_DATA)")
    p.add_argument("--out", default=None, help="folder for the .md and .csv (default: <data dir>/reproduce)")
    p.add_argument("--address", default=None, metavar="HOST:PORT", help="ray: join this cluster (default: a "
                   "local Ray instance owned by this command)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="ray: CPUs each run reserves (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="ray: GPUs each run reserves; fractions "
                   "share a GPU (0.25 = four runs per GPU)")
    p.add_argument("--no-train", action="store_true", help="train nothing: print and write the table of the "
                   "runs the store already holds (e.g. after an interrupted table)")
    p.add_argument("--yes", action="store_true", help="start very large work (more than the limits of "
                   "`ltcore.sweep.check_size`) without asking")
    p.set_defaults(handler=cmd_reproduce)


def comma_list(text: str, cast, flag: str) -> list:
    """A comma-separated CLI value cast item by item; a bad or empty list is one LTError naming the flag."""
    try:
        values = [cast(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LTError(f"{flag} takes a comma-separated list, got {text!r}") from None
    if not values:
        raise LTError(f"{flag} is empty")
    return values


def cmd_reproduce(args) -> int:
    import sys

    from ..data import DATASETS, default_data_dir, load_split
    from .runs import store_for

    spec = TABLES[args.table]
    if args.address and args.backend != "ray":
        raise LTError("--address HOST:PORT is for --backend ray (add it, or drop --address)")
    data_path = getattr(args, "data_path", "") or ""
    if data_path and args.dataset not in (None, "imagefolder"):
        raise LTError(f"--data-path trains on an image folder (--dataset imagefolder), not {args.dataset!r}: "
                      "drop --dataset or --data-path")
    dataset = "imagefolder" if data_path else args.dataset or spec.dataset
    if dataset not in DATASETS.names():
        raise LTError(f"unknown data set {dataset!r} for {spec.name}; this installation has: "
                      f"{', '.join(DATASETS.names())}")
    configs = table_configs(spec, comma_list(args.seeds, int, "--seeds"), dataset, args.epochs,
                            comma_list(args.methods, str, "--methods") if args.methods else None,
                            comma_list(args.ratios, float, "--ratios") if args.ratios else None,
                            args.eval_every, args.device, data_path)
    if not args.no_train:  # the size check every command that trains makes, before any data is read
        check_size(len(configs), max(c.epochs for c in configs), args.yes)
    if args.backend == "ray":  # before Ray starts: settings Tune would wait or retry on for ever
        from ..sweep.ray_tune import check_trial_options

        check_trial_options(args.cpus_per_trial, args.gpus_per_trial, 2)
    if args.workers is not None and args.workers < 1:
        raise LTError(f"--workers must be at least 1, got {args.workers}")
    if args.data_dir:  # the worker processes read data and store from the same folder
        os.environ["LTLAB_DATA"] = str(Path(args.data_dir).expanduser())
    # Missing files: one line naming them, before anything trains. Generated data (mnist1d) is
    # written to its cache here, once, before the workers start (they all read that file).
    split = load_split(dataset, args.data_dir, **({"path": data_path} if data_path else {}))
    warm_unlabelled(dataset, configs)
    say = lambda msg: sys.stderr.write(msg + "\n")  # noqa: E731
    methods = list(dict.fromkeys(c.method for c in configs))
    skipped = {} if args.methods else inapplicable(spec, dataset, args.device, data_path)
    say(f"{spec.name} on {dataset}: {len(configs)} runs ({configs[0].epochs} epochs each), "
        f"{len(methods)} presets: {', '.join(methods)}"
        + "".join(f"\n  left out: {m}: {why}" for m, why in skipped.items()))
    outcomes = train_table(configs, store_for(args.data_dir), args, say)
    files_of_table = bool(data_path) and bool(spec.classes) and tuple(split.classes) == spec.classes
    published_for = spec.name if (dataset == spec.dataset or files_of_table) and not spec.reference else None
    rows = summarise(spec, configs, outcomes, published_for, spec.reference)
    title = f"{spec.name}: {dataset}, {configs[0].epochs} epochs, seeds {args.seeds}"
    if spec.reference:
        markdown = format_preset_table(spec, rows, title, skipped)
    else:
        title += "" if published_for else " (smoke table: no published column for this data set)"
        markdown = format_markdown(spec, rows, title)
    if data_path:
        markdown = with_note(markdown, folder_note(spec, split, data_path, files_of_table))
    print(markdown)
    folder = Path(args.out) if args.out else (Path(args.data_dir).expanduser() if args.data_dir
                                               else default_data_dir()) / "reproduce"
    stem = f"{spec.name}-{dataset}-{configs[0].epochs}ep"
    for path in write_outputs(rows, markdown, folder, stem):
        print(f"wrote {path}")
    return 0 if all(not r["error"] for r in rows) else 1


def train_table(configs: list[Config], store, args, say) -> dict:
    """The table's runs on the chosen backend (or, with --no-train, only what the store holds):
    config id → RunResult, or an error message for a run that failed."""
    if getattr(args, "no_train", False):
        outcomes = stored_outcomes(configs, store)
        say(f"--no-train: {len(outcomes)} of {len(configs)} runs are in the store; the others are left out")
        return outcomes
    if args.backend == "ray":
        return run_ray(configs, store, args.address, args.cpus_per_trial, args.gpus_per_trial, say)
    return run_local(configs, store, args.workers, say)
