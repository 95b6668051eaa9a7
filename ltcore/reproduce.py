"""Paper tables in one command: `python -m ltcore reproduce cifar10-lt|cifar100-lt|mnist1d-lt`.

A table is a data set × imbalance ratios × method presets under one recipe (CIFAR: ResNet-32 and
the LDAM-DRW schedule of Cao et al. NeurIPS'19, 200 epochs). Every (ratio, method, seed) is one
run of the run store: runs already finished there are reused, the rest are trained (several at
once, see runs.jobs.runs_per_gpu), so an interrupted table resumes where it stopped. The report
puts our mean ± std over seeds beside the published top-1 accuracy (published.csv: one value per
cell with its source) and their difference.

`mnist1d-lt` is the whole-preset table: every registered preset a table can train by itself (all
but those that need a user's file, e.g. `transfer`; presets registered later join by themselves),
`kd`/`bkd` distilling from the table's own `ce` run of the same ratio and seed (trained first). It
reports balanced and many/medium/few accuracy (mean ± std over seeds) beside the published
CIFAR-10-LT value of each preset at the same ratio, for the ordering only (another data set).
"""
from __future__ import annotations

import csv
import os
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


TEACHER_PARAM = "kd_teacher"
TEACHER_METHOD = "ce"
"""A preset that requires `kd_teacher` distils from the table's own `ce` run of its ratio and seed."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    dataset: str
    ratios: tuple
    methods: tuple | None          # None: every preset a table can train (`trainable_presets`)
    recipe: str
    overrides: tuple = ()          # ((field, value), ...) on top of the recipe
    eval_every: int = 10
    description: str = ""
    reference: str | None = None   # a published table shown beside ours for the ordering (no Δ)
    method_params: tuple = ()      # ((preset, ((param, value), ...)), ...): a table's scale for a preset


TABLES = {
    "cifar10-lt": TableSpec("cifar10-lt", "cifar10", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                            description="CIFAR-10-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs"),
    "cifar100-lt": TableSpec("cifar100-lt", "cifar100", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                             description="CIFAR-100-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs"),
    "mnist1d-lt": TableSpec("mnist1d-lt", "mnist1d", (100.0, 50.0, 10.0), None,
                            "quick", (("epochs", 60),), eval_every=5, reference="cifar10-lt",
                            # KCL's queue of 65,536 keys is the authors' ImageNet-LT size (~0.57 of an
                            # epoch there); on 2,478 signals it would hold random keys for 26 epochs and
                            # cost ~36 s an epoch on a CPU. 1,024 keys (~0.4 of an epoch, PaCo's CIFAR
                            # queue) keep the authors' proportion.
                            method_params=(("kcl", (("kcl_queue", 1024),)),),
                            description="MNIST-1D-LT (exp. profile), every preset (kd/bkd taught by the "
                                        "table's ce run), the data set's default model, 60 epochs cosine; "
                                        "balanced and many/medium/few beside the published CIFAR-10-LT "
                                        "ordering"),
}

REFERENCE_LABEL = {"cifar10-lt": "CIFAR-10-LT", "cifar100-lt": "CIFAR-100-LT"}


def trainable_presets() -> tuple:
    """Every registered preset, in registry order, that a table can train by itself: all but those
    that require a user's file (`transfer`: init_from); `kd_teacher` the table provides."""
    from .methods import PRESETS

    return tuple(name for name in PRESETS.names()
                 if not set(PRESETS.get(name).meta.get("requires", ())) - {TEACHER_PARAM})


def table_methods(spec: TableSpec) -> tuple:
    return tuple(spec.methods) if spec.methods is not None else trainable_presets()


def needs_teacher(method: str) -> bool:
    from .methods import PRESETS

    return TEACHER_PARAM in PRESETS.get(method).meta.get("requires", ())



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
    """Every (ratio, method, seed) run of a table as validated Configs (ratio-major order).

    Without `methods`, the table's presets that apply to the data set (see `inapplicable`). A preset
    that needs a teacher (`kd`, `bkd`) gets `kd_teacher` = the store id of the table's `ce` run of
    the same ratio and seed; `ce` joins the table (first) when it was not asked for."""
    from .version import store_run_id

    unknown = sorted(set(methods or ()) - set(_preset_names()))
    if unknown:
        raise LTError(f"unknown method(s) {', '.join(unknown)}; see `python -m ltcore methods`")
    base = _base(spec, dataset, epochs, eval_every, device)
    if methods:
        methods = list(methods)
    else:
        skip = inapplicable(spec, dataset, device)
        methods = [m for m in table_methods(spec) if m not in skip]
    needs_file = sorted(m for m in methods if set(_requires(m)) - {TEACHER_PARAM})
    if needs_file:
        raise LTError(f"{', '.join(needs_file)} need(s) a file of yours ({', '.join(_requires(needs_file[0]))}); "
                      "a table cannot train it: leave it out of --methods")
    if any(needs_teacher(m) for m in methods) and TEACHER_METHOD not in methods:
        methods.insert(0, TEACHER_METHOD)
    configs = []
    for r in ratios or spec.ratios:
        teacher = {s: Config.from_dict({**base, "ratio": r, "method": TEACHER_METHOD, "seed": s}) for s in seeds}
        for m in methods:
            for s in seeds:
                params = dict(dict(spec.method_params).get(m, ()))
                if needs_teacher(m):
                    params[TEACHER_PARAM] = store_run_id(teacher[s])
                configs.append(Config.from_dict({**base, "ratio": r, "method": m, "seed": s,
                                                 "method_params": params}).validate())
    return configs


def _base(spec: TableSpec, dataset: str | None, epochs: int | None, eval_every: int | None, device: str) -> dict:
    """The table's recipe as Config fields (epochs shortened with the milestones scaled along)."""
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
    return base


def inapplicable(spec: TableSpec, dataset: str | None = None, device: str = "auto") -> dict:
    """The table's default presets that cannot train on the data set → the one-line reason (e.g.
    `cmo` pastes image patches: MNIST-1D has 1-D signals)."""
    from .errors import ConfigError

    base = _base(spec, dataset, None, None, device)
    out = {}
    for m in table_methods(spec):
        params = {TEACHER_PARAM: "teacher"} if needs_teacher(m) else {}
        try:
            Config.from_dict({**base, "ratio": spec.ratios[0], "method": m, "seed": 0,
                              "method_params": params}).validate()
        except ConfigError as exc:
            out[m] = str(exc)
    return out


def _preset_names():
    from .methods import PRESETS
    return PRESETS.names()


def _requires(method: str) -> tuple:
    from .methods import PRESETS
    return tuple(PRESETS.get(method).meta.get("requires", ()))


def summarise(spec: TableSpec, configs: list[Config], outcomes: dict, published_for: str | None,
              reference: str | None = None) -> list[dict]:
    """One row per (ratio, method): our mean ± std (top-1 % on the balanced test set) over the seeds
    that finished, the shot groups (mean ± std), the published value and ours − published.

    `outcomes`: run config id → RunResult or an error string. `published_for`: the table whose
    published column applies (None: another data set was trained, the column stays empty).
    `reference`: a published table whose value at the same ratio is shown for the ordering only."""
    from .methods import PRESETS

    published = load_published() if published_for or reference else {}
    groups: dict[tuple, list] = {}
    for cfg in configs:
        groups.setdefault((cfg.ratio, cfg.method), []).append(cfg)
    rows = []
    for (ratio, method), cfgs in groups.items():
        results = [outcomes.get(c.run_id) for c in cfgs]
        done = [r for r in results if r is not None and not isinstance(r, str)]
        errors = [r for r in results if isinstance(r, str)]
        acc = [100 * r.balanced_acc for r in done if r.balanced_acc is not None]
        pub = published.get((published_for, float(ratio), method)) if published_for else None
        ref = published.get((reference, float(ratio), method)) if reference else None
        mean, std = _mean_std(acc)
        row = {"table": spec.name, "dataset": cfgs[0].dataset, "ratio": ratio, "method": method,
               "family": PRESETS.get(method).meta.get("family", ""),
               "epochs": cfgs[0].epochs, "seeds": len(acc), "seeds_asked": len(cfgs),
               "ours_mean": mean, "ours_std": std,
               "published": pub.top1 if pub else None,
               "delta": _r(mean - pub.top1) if pub and mean is not None else None,
               "source": pub.source if pub else "", "checked": pub.checked if pub else "",
               "reference": f"{reference} ρ={ratio:g}" if reference else "",
               "reference_published": ref.top1 if ref else None}
        for group in ("many", "medium", "few"):
            vals = [100 * r.shot_acc[group] for r in done if r.shot_acc.get(group) is not None]
            row[f"{group}_mean"], row[f"{group}_std"] = _mean_std(vals)
        row["wall_seconds"] = _r(sum(r.wall_seconds for r in done))
        row["error"] = errors[0] if errors else ""
        rows.append(row)
    return rows


def _mean_std(values: list) -> tuple:
    """(mean, sample std) rounded to 0.01; std 0 for one value; (None, None) for none."""
    if not values:
        return None, None
    return _r(statistics.fmean(values)), (_r(statistics.stdev(values)) if len(values) > 1 else 0.0)


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


def format_preset_table(spec: TableSpec, rows: list[dict], title: str, skipped: dict | None = None) -> str:
    """The whole-preset table: per ratio, methods ranked by our balanced accuracy, each with many /
    medium / few (mean ± std over seeds) and the reference table's published value at that ratio
    with its rank among the presets that have one; then how well the two orders agree, and the
    presets left out (`skipped`: name → why)."""
    label = REFERENCE_LABEL.get(spec.reference, spec.reference or "")
    lines = [f"### {title}"]
    for ratio in sorted({r["ratio"] for r in rows}, reverse=True):
        block = sorted((r for r in rows if r["ratio"] == ratio),
                       key=lambda r: (r["ours_mean"] is None, -(r["ours_mean"] or 0.0)))
        refs = sorted({r["reference_published"] for r in block if r["reference_published"] is not None},
                      reverse=True)
        head = ["#", "method", "family", "balanced %", "many %", "medium %", "few %", "seeds",
                f"{label} ρ={ratio:g} published (rank)"]
        lines += ["", f"ρ = {ratio:g}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, r in enumerate(block, 1):
            ref = r["reference_published"]
            ranked = "—" if ref is None else f"{ref:.2f} (#{refs.index(ref) + 1})"
            failed = r["ours_mean"] is None and r["error"]
            cells = [str(i) if r["ours_mean"] is not None else "", r["method"], r["family"],
                     "failed" if failed else _cell(r["ours_mean"], r["ours_std"]),
                     _cell(r["many_mean"], r["many_std"]), _cell(r["medium_mean"], r["medium_std"]),
                     _cell(r["few_mean"], r["few_std"]), f"{r['seeds']}/{r['seeds_asked']}", ranked]
            lines.append("| " + " | ".join(cells) + " |")
        both = [r for r in block if r["ours_mean"] is not None and r["reference_published"] is not None]
        if len(both) >= 3:
            rs = spearman([r["ours_mean"] for r in both], [r["reference_published"] for r in both])
            lines += ["", f"Order agreement with the published {label} ρ={ratio:g} values over the "
                      f"{len(both)} presets that have one: Spearman r_s = {rs:+.2f}."]
    lines += ["", f"Balanced and per-group top-1 % on the balanced test set, mean ± std over seeds; many / "
              "medium / few: classes with > 100 / 20–100 / < 20 training samples. "
              f"The {label} column is another data set's published number (`ltcore/{PUBLISHED_FILE.name}`, "
              "with sources), shown only for the ordering: no difference is taken."]
    if skipped:
        lines += ["", "Not in this table (cannot train on this data set): "
                  + "; ".join(f"{m}: {why}" for m, why in skipped.items())]
    failed = [f"{r['method']} ρ={r['ratio']:g}: {r['error']}" for r in rows if r["error"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(failed)]
    return "\n".join(lines)


def spearman(a: list, b: list) -> float:
    """Spearman's rank correlation (average ranks for ties); 0 when either side is constant."""
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return num / den if den else 0.0


def _ranks(values: list) -> list:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


CSV_FIELDS = ("table", "dataset", "ratio", "method", "family", "epochs", "seeds", "seeds_asked", "ours_mean",
              "ours_std", "published", "delta", "many_mean", "many_std", "medium_mean", "medium_std", "few_mean",
              "few_std", "reference", "reference_published", "wall_seconds", "source", "checked", "error")


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


def warm_unlabelled(dataset: str, configs: list[Config]) -> None:
    """When a table run draws an unlabelled pool from the data set's generator (CReST), generate
    and cache its reservoir now, once, rather than in several workers at the same time."""
    from .data import DATASETS
    from .methods import PRESETS

    entry = DATASETS.get(dataset)
    draw = entry.meta.get("unlabelled")
    if draw is None or not any(PRESETS.get(c.method).meta.get("slots", {}).get("stage2") == "crest"
                               for c in configs):
        return
    draw([0] * entry.meta["num_classes"], 0)


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """CPU threads for each of `workers` runs at once: the cores split evenly, at least one."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(cores // max(workers, 1), 1)


def teacher_of(configs: list[Config], store) -> dict:
    """config id → config id of the table run it distils from (its `kd_teacher` store id)."""
    by_store_id = {store.run_id_for(c): c.run_id for c in configs}
    return {c.run_id: by_store_id[t] for c in configs
            if (t := dict(c.method_params).get(TEACHER_PARAM)) in by_store_id}


RUN_COST = {"bcl": 8.0, "paco": 5.0, "crest": 4.0, "kcl": 2.0}
"""Wall time of a preset's run relative to `ce` (1; presets not listed count as 1), measured on
MNIST-1D-LT, 30 epochs, one CPU thread (`benchmarks/mnist1d_new_presets.py`: ce 7-8 s, crest ~27,
paco ~38, bcl ~60; kcl ~2 with the table's 1,024-key queue, ~150 with its default 65,536 keys). The
local queue starts the slowest runs first, so a table's wall time is not that of its slowest
preset started last."""


def queue_order(pending: dict, teaching: set) -> list:
    """Config ids in the order to queue them: teachers first (their students wait for them), then
    the slowest presets (RUN_COST), else the table's order."""
    return sorted(pending, key=lambda cid: (cid not in teaching, -RUN_COST.get(pending[cid].method, 1.0)))


def run_local(configs: list[Config], store, workers: int | None, progress=None, poll: float = 1.0) -> dict:
    """Train what the store does not hold yet on the local job queue (`workers` runs at once, each
    with cores // workers CPU threads; default: runs_per_gpu per GPU). A run that distils from
    another table run is queued once its teacher is done (teachers go first). Returns config id →
    RunResult or error message."""
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
    teachers = teacher_of(configs, store)
    teaching = set(teachers.values())
    order = queue_order(pending, teaching)
    waiting = [cid for cid in order if cid in teachers]
    manager = JobManager(store, max_workers=workers, reuse=50,
                         threads=threads_per_worker(workers) if workers else None)
    try:
        ids = {cid: manager.submit(pending[cid]) for cid in order if cid not in teachers}
        if progress:
            progress(f"{manager.max_workers} run(s) at a time"
                     + (f"; {len(waiting)} wait for their teacher run" if waiting else ""))
        start, left = time.monotonic(), dict(ids)
        while left or waiting:
            for cid in list(waiting):
                teacher = outcomes.get(teachers[cid])
                if teacher is None:
                    continue
                waiting.remove(cid)
                if isinstance(teacher, str):
                    outcomes[cid] = f"its teacher run ({TEACHER_METHOD}) did not finish: {teacher}"
                else:
                    ids[cid] = left[cid] = manager.submit(pending[cid])
            for cid, rid in list(left.items()):
                st = manager.status(rid)
                if st["status"] in ("queued", "running"):
                    continue
                del left[cid]
                result = manager.result(rid) if st["status"] == "done" else None
                outcomes[cid] = result if result is not None else (st["error"] or st["status"])
                if progress:
                    done = sum(c in outcomes for c in pending)
                    cfg = pending[cid]
                    what = (f"balanced {100 * result.balanced_acc:.2f}%" if result is not None
                            else f"{st['status']}: {outcomes[cid]}")
                    progress(f"[{done}/{len(pending)}] {cfg.method} ρ={cfg.ratio:g} seed {cfg.seed}: {what}  "
                             f"({time.monotonic() - start:.0f} s elapsed)")
            if left or waiting:
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
    if args.workers is not None and args.workers < 1:
        raise LTError(f"--workers must be at least 1, got {args.workers}")
    if args.data_dir:  # the worker processes read data and store from the same folder
        os.environ["LTLAB_DATA"] = str(Path(args.data_dir).expanduser())
    # Missing files: one line naming them, before anything trains. Generated data (mnist1d) is
    # written to its cache here, once, before the workers start (they all read that file).
    load_split(dataset, args.data_dir)
    warm_unlabelled(dataset, configs)
    say = lambda msg: sys.stderr.write(msg + "\n")  # noqa: E731
    methods = list(dict.fromkeys(c.method for c in configs))
    skipped = {} if args.methods else inapplicable(spec, dataset, args.device)
    say(f"{spec.name} on {dataset}: {len(configs)} runs ({configs[0].epochs} epochs each), "
        f"{len(methods)} presets: {', '.join(methods)}"
        + "".join(f"\n  left out: {m}: {why}" for m, why in skipped.items()))
    outcomes = train_table(configs, store_for(args.data_dir), args, say)
    published_for = spec.name if dataset == spec.dataset and not spec.reference else None
    rows = summarise(spec, configs, outcomes, published_for, spec.reference)
    title = f"{spec.name}: {dataset}, {configs[0].epochs} epochs, seeds {args.seeds}"
    if spec.reference:
        markdown = format_preset_table(spec, rows, title, skipped)
    else:
        title += "" if published_for else " (smoke table: no published column for this data set)"
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
