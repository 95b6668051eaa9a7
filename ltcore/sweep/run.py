"""`run_sweep`: sweeps behind one API: a grid of methods × imbalance ratios × seeds (optionally a search over a
method hyper-parameter), trained by the `local` job queue or as Ray Tune trials (`ray`), with the run
store as the single source of truth — configurations already finished there are never submitted again.

    from ltcore.sweep import SweepSpec, run_sweep
    outcome = run_sweep(SweepSpec(Config(epochs=5), methods=("ce", "la_loss"), ratios=(10, 100), seeds=(0, 1)),
                        backend="ray", address="10.0.0.1:6379")
    outcome.results            # run id → RunResult of every finished run of the sweep
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import LTError
from .grid import SweepSpec
from .progress import Progress, finished_in_store
from .summary import search_table, summarise


BACKENDS = {
    "local": "this machine's job queue: --workers runs at once in worker processes",
    "ray": "Ray Tune trials on a Ray cluster (--address HOST:PORT) or on a local Ray instance",
}


@dataclass
class SweepOutcome:
    """What a sweep left in the store: every run id, which were submitted and which reused, the
    results of the finished ones, and whether it ran to the end (False after Ctrl-C / Stop)."""

    spec: SweepSpec
    run_ids: list[str]
    submitted: list[str]
    cached: list[str]
    results: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)
    complete: bool = True

    def summary(self) -> list[dict]:
        return summarise(list(self.results.values()))

    def search(self) -> list[dict]:
        return search_table(list(self.results.values()), [r.name for r in self.spec.ranges])


def plan(spec: SweepSpec, store) -> tuple[list, list[str], list[str]]:
    """(configs to train, every run id, run ids already finished in the store)."""
    configs = [] if spec.search == "optuna" else spec.configs()
    ids = list(dict.fromkeys(store.run_id_for(c) for c in configs))
    cached = [rid for rid in ids if finished_in_store(store, rid)]
    todo, seen = [], set(cached)
    for config in configs:
        run_id = store.run_id_for(config)
        if run_id not in seen:
            seen.add(run_id)
            todo.append(config)
    return todo, ids, cached


def run_sweep(spec: SweepSpec, store=None, backend: str = "local", *, workers: int | None = None,
              address: str | None = None, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
              max_failures: int = 2, on_progress=None) -> SweepOutcome:
    """Train the sweep's runs that the store does not hold yet and return every finished result.
    `on_progress(Progress)` is called as runs change state (the CLI draws its bar with it)."""
    from ..runs import RunStore

    if backend not in BACKENDS:
        raise LTError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if spec.search == "optuna" and backend != "ray":
        raise LTError("--search optuna runs through Ray Tune: add --backend ray (a local Ray instance is "
                      "started when no --address is given)")
    if spec.asha and backend != "ray":
        raise LTError("--asha (early stopping) runs through Ray Tune: add --backend ray")
    if backend == "ray":
        from .ray_tune import check_trial_options

        check_trial_options(cpus_per_trial, gpus_per_trial, max_failures)
    store = store or RunStore()
    todo, ids, cached = plan(spec, store)
    report = on_progress or (lambda p: None)
    parallel = (max(workers or 1, 1) if backend == "local"
                else max(int((os.cpu_count() or 1) // max(cpus_per_trial, 1)), 1))
    progress = Progress(total=len(ids) if spec.search != "optuna" else spec.count(), parallel=parallel)
    if backend == "local":
        from .local import run_local

        complete = run_local(store, todo, ids, len(cached), progress, report, workers) if todo else True
    else:
        from .ray_tune import run_ray

        complete = True
        if todo or spec.search == "optuna":
            complete = run_ray(spec, store, todo, ids, len(cached), progress, report, address, cpus_per_trial,
                               gpus_per_trial, max_failures)
    if spec.search == "optuna":
        ids = _optuna_runs(spec, store)
    statuses = {rid: (store.get(rid) or {}).get("status") for rid in ids}
    results = {rid: store.load_result(rid) for rid in ids if finished_in_store(store, rid)}  # stopped: partial
    return SweepOutcome(spec, ids, [store.run_id_for(c) for c in todo], cached, results, statuses, complete)


def _optuna_runs(spec: SweepSpec, store) -> list[str]:
    """The store's runs of an Optuna search: every run of a cell's base config with a searched value."""
    names = {r.name for r in spec.ranges}
    out = []
    for method, ratio, seed in spec.cells():
        base = spec.config_for(method, ratio, seed)
        want = {k: v for k, v in base.to_dict().items() if k != "method_params"}
        fixed = {k: v for k, v in base.method_params if k not in names}
        for row in store.list_runs(dataset=base.dataset, method=method):
            config = store.config(row["run_id"])
            params = dict(config.method_params)
            if (all(config.to_dict()[k] == v for k, v in want.items()) and names <= set(params)
                    and {k: v for k, v in params.items() if k not in names} == fixed):
                out.append(row["run_id"])
    return out

