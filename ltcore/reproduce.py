"""Paper tables in one command: `python -m ltcore reproduce cifar10-lt|cifar100-lt|mnist1d-lt`.

A table is a data set × imbalance ratios × method presets under one recipe (CIFAR: ResNet-32 and
the LDAM-DRW schedule of Cao et al. NeurIPS'19, 200 epochs). Every (ratio, method, seed) is one
run of the run store: runs already finished there are reused, the rest are trained (several at
once, see runs.jobs.runs_per_gpu), so an interrupted table resumes where it stopped. The report
puts our mean ± std over seeds beside the published top-1 accuracy (published.csv: one value per
cell with its source) and their difference.
"""
from __future__ import annotations

import csv
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import LTError
from .recipes import RECIPES

PUBLISHED_FILE = Path(__file__).with_name("published.csv")

CIFAR_METHODS = ("ce", "ros", "cbs", "progressive", "cb_ce", "focal", "cb_focal", "ldam", "ldam_drw",
                 "ce_drw", "la_posthoc", "la_loss", "balanced_softmax", "mixup", "remix", "remix_drw",
                 "crt", "tau_norm", "lws", "ncm")
"""The 20 presets of a CIFAR-LT table: the baseline, re-sampling, cost-sensitive, logit adjustment,
mixing and decoupling families (every preset with a published CIFAR-LT number, and their kin)."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    dataset: str
    ratios: tuple
    methods: tuple
    recipe: str
    overrides: tuple = ()          # ((field, value), ...) on top of the recipe
    eval_every: int = 10
    description: str = ""


TABLES = {
    "cifar10-lt": TableSpec("cifar10-lt", "cifar10", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                            description="CIFAR-10-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs"),
    "cifar100-lt": TableSpec("cifar100-lt", "cifar100", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                             description="CIFAR-100-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs"),
    "mnist1d-lt": TableSpec("mnist1d-lt", "mnist1d", (100.0, 50.0, 10.0),
                            ("ce", "cbs", "cb_ce", "focal", "ldam_drw", "ce_drw", "la_posthoc",
                             "balanced_softmax", "mixup", "crt", "tau_norm", "ncm"),
                            "quick", (("epochs", 60),), eval_every=5,
                            description="MNIST-1D-LT (exp. profile), the data set's default model, "
                                        "60 epochs cosine; no published LT numbers"),
}


@dataclass(frozen=True)
class Published:
    top1: float
    source: str
    checked: str


def load_published(path: Path = PUBLISHED_FILE) -> dict[tuple[str, float, str], Published]:
    """(table, ratio, method) → published top-1 % with its source, from the one data file."""
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["table"], float(row["ratio"]), row["method"])
            if key in out:
                raise LTError(f"{path.name}: two published values for {key}")
            out[key] = Published(float(row["top1"]), row["source"], row["checked"])
    return out


def table_configs(spec: TableSpec, seeds, dataset: str | None = None, epochs: int | None = None,
                  methods=None, ratios=None, eval_every: int | None = None, device: str = "auto") -> list[Config]:
    """Every (ratio, method, seed) run of a table as validated Configs (ratio-major order)."""
    unknown = sorted(set(methods or ()) - set(_preset_names()))
    if unknown:
        raise LTError(f"unknown method(s) {', '.join(unknown)}; see `python -m ltcore methods`")
    base = dict(RECIPES.get(spec.recipe).obj)
    base.update(dict(spec.overrides))
    base.update(dataset=dataset or spec.dataset, profile="exp", device=device,
                eval_every=eval_every or spec.eval_every)
    if epochs is not None:
        base["epochs"] = epochs
        base["warmup_epochs"] = min(base.get("warmup_epochs", 0), max(epochs - 1, 0))
        if base.get("milestones"):  # the recipe's milestones at the same fractions of the run
            full = dict(RECIPES.get(spec.recipe).obj).get("epochs", epochs)
            base["milestones"] = tuple(max(1, round(m * epochs / full)) for m in base["milestones"])
    base["eval_every"] = min(base["eval_every"], base.get("epochs", Config().epochs))
    return [Config.from_dict({**base, "ratio": r, "method": m, "seed": s}).validate()
            for r in (ratios or spec.ratios) for m in (methods or spec.methods) for s in seeds]


def _preset_names():
    from .methods import PRESETS
    return PRESETS.names()


def summarise(spec: TableSpec, configs: list[Config], outcomes: dict, published_for: str | None) -> list[dict]:
    """One row per (ratio, method): our mean ± std (top-1 % on the balanced test set) over the seeds
    that finished, the shot groups, the published value and ours − published.

    `outcomes`: run config id → RunResult or an error string. `published_for`: the table whose
    published column applies (None: another data set was trained, the column stays empty)."""
    published = load_published() if published_for else {}
    groups: dict[tuple, list] = {}
    for cfg in configs:
        groups.setdefault((cfg.ratio, cfg.method), []).append(cfg)
    rows = []
    for (ratio, method), cfgs in groups.items():
        results = [outcomes.get(c.run_id) for c in cfgs]
        done = [r for r in results if r is not None and not isinstance(r, str)]
        errors = [r for r in results if isinstance(r, str)]
        acc = [100 * r.balanced_acc for r in done if r.balanced_acc is not None]
        pub = published.get((published_for, float(ratio), method))
        mean = statistics.fmean(acc) if acc else None
        row = {"table": spec.name, "dataset": cfgs[0].dataset, "ratio": ratio, "method": method,
               "epochs": cfgs[0].epochs, "seeds": len(acc), "seeds_asked": len(cfgs),
               "ours_mean": _r(mean), "ours_std": _r(statistics.stdev(acc)) if len(acc) > 1 else (0.0 if acc else None),
               "published": pub.top1 if pub else None,
               "delta": _r(mean - pub.top1) if pub and mean is not None else None,
               "source": pub.source if pub else "", "checked": pub.checked if pub else ""}
        for group in ("many", "medium", "few"):
            vals = [100 * r.shot_acc[group] for r in done if r.shot_acc.get(group) is not None]
            row[f"{group}_mean"] = _r(statistics.fmean(vals)) if vals else None
        row["wall_seconds"] = _r(sum(r.wall_seconds for r in done))
        row["error"] = errors[0] if errors else ""
        rows.append(row)
    return rows


def _r(x, digits: int = 2):
    return None if x is None else round(float(x), digits)


def _cell(value, std=None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} ± {std:.2f}" if std is not None else f"{value:.2f}"


def format_markdown(spec: TableSpec, rows: list[dict], title: str) -> str:
    """Methods as rows; per ratio: ours (mean ± std, n), published, Δ; sources listed below."""
    ratios = sorted({r["ratio"] for r in rows}, reverse=True)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    by = {(r["ratio"], r["method"]): r for r in rows}
    head = ["method"] + [h for q in ratios for h in (f"ρ={q:g} ours", f"ρ={q:g} published", f"ρ={q:g} Δ")]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in methods:
        cells = [m]
        for q in ratios:
            r = by.get((q, m))
            if r is None:
                cells += ["", "", ""]
                continue
            ours = _cell(r["ours_mean"], r["ours_std"]) + (f" (n={r['seeds']})" if r["seeds"] else "")
            if r["ours_mean"] is None and r["error"]:
                ours = "failed"
            cells += [ours, _cell(r["published"]), "—" if r["delta"] is None else f"{r['delta']:+.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    sources = {r["source"] for r in rows if r["source"]}
    if sources:
        lines += ["", "Published values (top-1 %, balanced test set) and where they come from: "
                  f"`ltcore/{PUBLISHED_FILE.name}` — " + "; ".join(sorted(sources)) + "."]
    else:
        lines += ["", "No published column: this data set has no published numbers for this table."]
    failed = [f"{r['method']} ρ={r['ratio']:g}: {r['error']}" for r in rows if r["error"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(failed)]
    return "\n".join(lines)


CSV_FIELDS = ("table", "dataset", "ratio", "method", "epochs", "seeds", "seeds_asked", "ours_mean", "ours_std",
              "published", "delta", "many_mean", "medium_mean", "few_mean", "wall_seconds", "source",
              "checked", "error")


def write_outputs(rows: list[dict], markdown: str, folder: Path, stem: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, csv_path = folder / f"{stem}.md", folder / f"{stem}.csv"
    md.write_text(markdown + "\n")
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return md, csv_path


def saved_tables(data_dir=None) -> list[Path]:
    """Reproduced tables written by `reproduce` (CSV files, newest first)."""
    from .data import default_data_dir

    folder = Path(data_dir).expanduser() if data_dir else default_data_dir()
    found = list((folder / "reproduce").glob("*.csv"))
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def read_table(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def run_local(configs: list[Config], store, workers: int | None, progress=None, poll: float = 1.0) -> dict:
    """Train what the store does not hold yet on the local job queue (`workers` runs at once;
    default: runs_per_gpu per GPU). Returns config id → RunResult or error message."""
    from .runs.jobs import JobManager

    pending, outcomes = {}, {}
    for cfg in configs:
        row = store.get(store.run_id_for(cfg))
        if row and row["status"] == "done" and row["has_result"]:
            outcomes[cfg.run_id] = store.load_result(store.run_id_for(cfg))
        else:
            pending[cfg.run_id] = cfg
    if progress:
        progress(f"{len(outcomes)} of {len(configs)} runs already in the store; training {len(pending)}")
    if not pending:
        return outcomes
    manager = JobManager(store, max_workers=workers, reuse=50)
    try:
        ids = {cid: manager.submit(cfg) for cid, cfg in pending.items()}
        if progress:
            progress(f"{manager.max_workers} run(s) at a time")
        start, left = time.monotonic(), dict(ids)
        while left:
            for cid, rid in list(left.items()):
                st = manager.status(rid)
                if st["status"] in ("queued", "running"):
                    continue
                del left[cid]
                result = manager.result(rid) if st["status"] == "done" else None
                outcomes[cid] = result if result is not None else (st["error"] or st["status"])
                if progress:
                    done = len(ids) - len(left)
                    cfg = pending[cid]
                    what = (f"balanced {100 * result.balanced_acc:.2f}%" if result is not None
                            else f"{st['status']}: {outcomes[cid]}")
                    progress(f"[{done}/{len(ids)}] {cfg.method} ρ={cfg.ratio:g} seed {cfg.seed}: {what}  "
                             f"({time.monotonic() - start:.0f} s elapsed)")
            if left:
                time.sleep(poll)
    except KeyboardInterrupt:
        manager.stop_all()
        raise
    finally:
        manager.shutdown(kill=True, timeout=10)
    return outcomes


def add_parser(sub) -> None:
    """`reproduce TABLE`: the options that shrink a table for a smoke run, and where to write."""
    p = sub.add_parser("reproduce", help="train a paper table (what the store lacks) and print ours "
                       "vs published side by side")
    p.add_argument("table", choices=sorted(TABLES), help="; ".join(f"{k}: {v.description}" for k, v in TABLES.items()))
    p.add_argument("--dataset", default=None, help="train on another data set (e.g. synthetic_cifar offline: "
                   "a smoke table, published column empty)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="fewer epochs (milestones scale along)")
    p.add_argument("--methods", default=None, help="comma-separated presets (default: the table's)")
    p.add_argument("--ratios", default=None, help="comma-separated imbalance ratios (default: 100,50,10)")
    p.add_argument("--eval-every", type=int, default=None, help="test evaluation every N epochs (and the last)")
    p.add_argument("--backend", default="local", choices=("local", "ray"), help="where runs train: local (this "
                   "machine's job queue, --workers at once) or ray (Ray Tune trials, the sweep API's Ray backend)")
    p.add_argument("--workers", type=int, default=None, help="runs at once (default: LTLAB_RUNS_PER_GPU or "
                   "what GPU memory allows, per GPU; 1 on a CPU)")
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

    from .data import DATASETS, default_data_dir, load_split
    from .runs.cli import store_for

    spec = TABLES[args.table]
    if args.address and args.backend != "ray":
        raise LTError("--address HOST:PORT is for --backend ray (add it, or drop --address)")
    dataset = args.dataset or spec.dataset
    if dataset not in DATASETS.names():
        raise LTError(f"unknown data set {dataset!r} for {spec.name}; this installation has: "
                      f"{', '.join(DATASETS.names())}")
    configs = table_configs(spec, comma_list(args.seeds, int, "--seeds"), dataset, args.epochs,
                            comma_list(args.methods, str, "--methods") if args.methods else None,
                            comma_list(args.ratios, float, "--ratios") if args.ratios else None,
                            args.eval_every, args.device)
    load_split(dataset, args.data_dir)  # missing files: one line naming them, before anything trains
    say = lambda msg: sys.stderr.write(msg + "\n")  # noqa: E731
    say(f"{spec.name} on {dataset}: {len(configs)} runs ({configs[0].epochs} epochs each)")
    outcomes = train_table(configs, store_for(args.data_dir), args, say)
    published_for = spec.name if dataset == spec.dataset else None
    rows = summarise(spec, configs, outcomes, published_for)
    title = (f"{spec.name}: {dataset}, {configs[0].epochs} epochs, seeds {args.seeds}"
             + ("" if published_for else " (smoke table: no published column for this data set)"))
    markdown = format_markdown(spec, rows, title)
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


def stored_outcomes(configs: list[Config], store) -> dict:
    """config id → RunResult of each table run finished in the store (done, or failed with a result)."""
    from .sweep.progress import finished_in_store

    out = {}
    for cfg in configs:
        run_id = store.run_id_for(cfg)
        if finished_in_store(store, run_id):
            out[cfg.run_id] = store.load_result(run_id)
    return out


def run_ray(configs: list[Config], store, address: str | None, cpus_per_trial: float = 1,
            gpus_per_trial: float = 0, say=None) -> dict:
    """Train what the store lacks as Ray Tune trials (ltcore.sweep's Ray backend: the driver writes
    every epoch and result into this store, so the table resumes the same way as locally). A run
    that distils from another table run (`kd_teacher` = its store id) goes in a second wave, after
    its teacher. Returns config id → RunResult or the run's error/status."""
    from .sweep import Progress, SweepSpec, TerminalBar
    from .sweep.ray_tune import run_ray as tune_runs

    say = say or (lambda msg: None)
    outcomes = stored_outcomes(configs, store)
    todo = [c for c in configs if c.run_id not in outcomes]
    say(f"{len(outcomes)} of {len(configs)} runs already in the store; training {len(todo)} as Ray trials"
        + (f" at {address}" if address else " on a local Ray instance"))
    store_ids = {store.run_id_for(c) for c in configs}
    first = [c for c in todo if dict(c.method_params).get("kd_teacher") not in store_ids]
    second = [c for c in todo if c not in first]
    spec = SweepSpec(configs[0], (configs[0].method,), (configs[0].ratio,), (configs[0].seed,))
    bar = TerminalBar()
    try:
        for wave in (first, second):
            if not wave:
                continue
            ids = list(dict.fromkeys(store.run_id_for(c) for c in wave))
            progress = Progress(total=len(ids), parallel=1)
            if not tune_runs(spec, store, wave, ids, 0, progress, bar, address, cpus_per_trial, gpus_per_trial):
                break  # stopped (Ctrl-C or Stop): report what finished
    finally:
        bar.close()
    for cfg in todo:
        row = store.get(store.run_id_for(cfg)) or {}
        if row.get("has_result") and row.get("status") in ("done", "failed"):
            outcomes[cfg.run_id] = store.load_result(store.run_id_for(cfg))
        elif row.get("status") in ("failed", "stopped", "interrupted"):
            outcomes[cfg.run_id] = row.get("error") or row["status"]
    return outcomes
