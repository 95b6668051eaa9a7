"""Where a table's runs train: the local job queue (teachers first, then the slowest presets) or
Ray Tune trials; both skip what the run store already holds, so an interrupted table resumes."""
from __future__ import annotations

import os
import time

from ..config import Config
from .tables import TEACHER_METHOD, TEACHER_PARAM


def warm_unlabelled(dataset: str, configs: list[Config]) -> None:
    """When a table run draws an unlabelled pool from the data set's generator (CReST), generate
    and cache its reservoir now, once, rather than in several workers at the same time."""
    from ..data import DATASETS
    from ..methods import PRESETS

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
    from ..runs.jobs import JobManager

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


def stored_outcomes(configs: list[Config], store) -> dict:
    """config id → RunResult of each table run finished in the store (done, or failed with a result)."""
    from ..sweep.progress import finished_in_store

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
    from ..sweep import Progress, SweepSpec, TerminalBar
    from ..sweep.ray_tune import run_ray as tune_runs

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
