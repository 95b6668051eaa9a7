"""The `ray` backend: the sweep's runs as Ray Tune trials on a Ray cluster (or on a local Ray instance
owned by this process), with this process (the driver) keeping the run store the single source of truth.

- Each trial trains one store run on some node and reports every finished epoch to Tune; the driver's
  `StoreCallback` writes that epoch into the store as it arrives (live curves in the dashboard) and,
  on the trial's last report, the result, its arrays and the model's weights, once.
- A worker killed mid-trial: Tune restarts the trial (`FailureConfig(max_failures)`); the retry
  overwrites the same run's epochs, so the store holds the run once, with `attempts` counting tries.
- Stop requests in the store (the dashboard's Stop) end a trial after its current epoch
  (`StoreStopper`); Ctrl-C ends the Tune run, and every run left unfinished is marked `stopped`.
- A trial asking for more CPUs or GPUs than any node has is refused before anything is submitted;
  so are settings Tune would wait or retry on for ever (`check_trial_options`) and an address that
  answers but is not a Ray cluster (`_reachable`).
- A distillation run's teacher (`kd_teacher`: a stored run or `@<method>`) is read from the
  driver's store and shipped with the trials (`teacher_payloads`): a node has no store of its own.
- A parameter search maximises balanced accuracy on the validation split (`grid.OBJECTIVE`) with
  Tune's searchers (OptunaSearch for `optuna`) and, optionally, ASHA early stopping.
"""
from __future__ import annotations

import io
import os
import pickle
import time
import zlib
from pathlib import Path

from ..config import Config
from ..errors import LTError
from .grid import OBJECTIVE, SweepSpec

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
PRIVATE = ("_row", "_final", "_worker", "_device")


# -- the trial (runs on a Ray worker) ---------------------------------------------------------------
def job_config(trial_config: dict) -> Config:
    """The run config of a trial: a fixed config (grid/random), or a cell's base config with the
    values an Optuna search proposed (rounded as a random search rounds them)."""
    from .grid import round_sig

    if "config" in trial_config:
        return Config.from_dict(trial_config["config"])
    params = dict(Config.from_dict(trial_config["base"]).method_params)
    kinds = trial_config.get("kinds", {})
    for name, value in trial_config["values"].items():
        params[name] = int(value) if kinds.get(name) == "int" else round_sig(float(value))
    return Config.from_dict(trial_config["base"]).replace(method_params=params)


def train_trial(trial_config: dict) -> None:
    """Ray Tune function trainable: train one run and report each epoch, then the whole result."""
    import torch
    from ray import tune

    from ..version import code_version
    from ..engine.trainer import train

    config = job_config(trial_config)
    wanted = trial_config.get("code_version")
    if wanted and code_version() != wanted:
        raise LTError(f"this Ray node runs ltcore code version {code_version()}, the driver {wanted}: "
                      "install the same code on every node (results would not match their run ids)")
    torch.set_num_threads(max(int(trial_config.get("cpus", 1)), 1))
    worker = {"pid": os.getpid(), "node": _node_ip()}
    device = {}

    def on_event(event: dict) -> None:
        if event["type"] == "start":
            device["name"] = event["device"]
        elif event["type"] == "epoch":
            row = {k: v for k, v in event.items() if k not in ("type", "epochs")}
            tune.report(_metrics(row) | {"_row": row, "_worker": worker, "_device": device.get("name", "")})

    result = train(config, on_event=on_event, find_run=shipped_runs(trial_config.get("teachers") or {}))
    state = None
    if result.model is not None and result.status in ("done", "stopped"):
        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, buffer)
        state = buffer.getvalue()
    payload = zlib.compress(pickle.dumps({"result": result.to_dict(), "state": state}))
    final = _metrics(result.metrics)
    del final["epoch"]  # not a new epoch: ASHA must not act on the report that carries the result
    tune.report(final | {"_final": payload, "_worker": worker})


TEACHER_PARAM = "kd_teacher"


def teacher_payloads(store, configs: list[Config]) -> dict:
    """The stored models the runs distil from (`kd_teacher`: a run id or `@<method>`), read from
    the driver's store before anything is submitted — a trial on another node has no store to
    look them up in. reference → compressed (config, weights). A teacher the store lacks is one
    LTError now, not a failed trial later."""
    import torch

    from ..methods.distill import resolve_reference

    out = {}
    for config in configs:
        given = str(dict(config.method_params).get(TEACHER_PARAM) or "").strip()
        if not given:
            continue
        reference = resolve_reference(config, given)
        if reference in out or reference.endswith(".pt") or "/" in reference or "\\" in reference:
            continue  # a weights file: read where the trial runs, as in a local run
        try:
            teacher, state = store.run_model(reference)
        except LTError as exc:
            what = f"run {reference}" if reference == given else f"run {reference}, the {given[1:]} run of its settings"
            raise LTError(f"{config.method} learns from kd_teacher {given} ({what}), which this store has no "
                          f"finished model of ({exc}); train the teacher run first: its students go to Ray "
                          "with its weights") from None
        buffer = io.BytesIO()
        torch.save(state, buffer)
        out[reference] = zlib.compress(pickle.dumps({"config": teacher.to_dict(), "state": buffer.getvalue()}))
    return out


def shipped_runs(payloads: dict):
    """A trial's `find_run`: the teachers the driver shipped (see `teacher_payloads`)."""
    def find_run(reference: str):
        import torch

        data = payloads.get(str(reference).strip())
        if data is None:
            raise LTError(f"run {reference!r} was not sent with this Ray trial; train it first and run "
                          "the sweep again")
        data = pickle.loads(zlib.decompress(data))
        return Config.from_dict(data["config"]), torch.load(io.BytesIO(data["state"]), weights_only=True)
    return find_run


def _metrics(row: dict) -> dict:
    out = {"epoch": int(row.get("epoch", 0)), "balanced_acc": row.get("balanced_acc")}
    if row.get(OBJECTIVE) is not None:
        out[OBJECTIVE] = row[OBJECTIVE]
    return out


def _node_ip() -> str:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - only a label
        return ""


# -- the driver -------------------------------------------------------------------------------------
def connect(address: str | None, num_cpus: int | None = None) -> None:
    """Join the cluster at `address`, or start a Ray instance owned by this process (loopback only).
    Workers get this checkout on their PYTHONPATH (nodes without it use their installed ltcore)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no result.json copies of arrays
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    for name in ("LTLAB_CODE_VERSION", "LTLAB_OFFLINE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if ray.is_initialized():
        ray.shutdown()
    options = dict(runtime_env={"env_vars": env}, logging_level="ERROR", log_to_driver=False,
                   include_dashboard=False)
    if address:
        _reachable(address)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a private instance: loopback
            ray.init(address="local", num_cpus=num_cpus, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise LTError(f"could not connect to {where}: {str(exc).splitlines()[0] if str(exc) else exc}; "
                      "is `ray start --head` running there and the address HOST:PORT right?") from None


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_FRAME = 0x04


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on a wrong HOST:PORT (ray.init would retry for minutes, forever against a
    server that is not Ray's): the port must answer the HTTP/2 preface with a SETTINGS frame, as
    the cluster's GCS (a gRPC server) does; a web server, an SSH daemon or silence is refused."""
    import socket

    host, _, port = address.rpartition(":")
    if address.startswith(("ray://", "auto")) or not host:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            conn.sendall(HTTP2_PREFACE)
            head = b""
            while len(head) < 9:
                chunk = conn.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.timeout:
        head = b""
    except (OSError, ValueError) as exc:
        raise LTError(f"could not connect to the Ray cluster at {address} ({exc}); is `ray start --head` "
                      "running there and the address HOST:PORT right?") from None
    if len(head) < 9 or head[3] != SETTINGS_FRAME:
        seen = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").strip()
        raise LTError(f"{address} answers, but not as a Ray cluster" + (f" (it says {seen[:60]!r})" if seen else "")
                      + "; give the address `ray start --head` printed (its GCS port, 6379 by default)")


def check_trial_options(cpus: float, gpus: float, max_failures: int) -> None:
    """Refuse, before Ray starts, trial settings Tune would accept and then wait or retry on
    forever: CPUs must be a finite number > 0, GPUs a finite number ≥ 0, retries 0 or more (Tune
    reads -1 as "retry for ever")."""
    import math

    if not (isinstance(cpus, (int, float)) and math.isfinite(cpus) and cpus > 0):
        raise LTError(f"--cpus-per-trial must be a number above 0 (e.g. 1 or 0.5), got {cpus}")
    if not (isinstance(gpus, (int, float)) and math.isfinite(gpus) and gpus >= 0):
        raise LTError(f"--gpus-per-trial must be 0 or a positive number (0.25 shares a GPU by four), got {gpus}")
    if gpus > 1 and gpus != int(gpus):
        raise LTError(f"--gpus-per-trial {gpus:g}: above 1 it must be a whole number of GPUs")
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        raise LTError(f"--max-failures must be 0 or more (retries of a trial whose worker died), got "
                      f"{max_failures}; Ray Tune would read -1 as retrying for ever")


def precheck(store, configs: list[Config], address: str | None, cpus: float, gpus: float,
             max_failures: int) -> None:
    """Everything a Ray sweep can be refused for before Ray starts (the CLI calls it before it says
    what it submits): trial settings, an address that is not a Ray cluster, missing teachers."""
    check_trial_options(cpus, gpus, max_failures)
    teacher_payloads(store, configs)
    if address:
        _reachable(address)


def check_resources(cpus: float, gpus: float, address: str | None) -> dict:
    """Refuse, before submitting anything, trials that no node could ever run (they would wait forever)."""
    import ray

    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    total = {k: sum(n.get(k, 0) for n in nodes) for k in ("CPU", "GPU")}
    where = f"the Ray cluster at {address}" if address else "the local Ray instance"
    if gpus > 0 and total["GPU"] == 0:
        raise LTError(f"--gpus-per-trial {gpus:g} asks for a GPU, but {where} has no GPUs "
                      f"({len(nodes)} node(s), {total['CPU']:g} CPUs); use --gpus-per-trial 0 or add a GPU node")
    if gpus > max((n.get("GPU", 0) for n in nodes), default=0):
        raise LTError(f"--gpus-per-trial {gpus:g} is more GPUs than any node of {where} has")
    if cpus > max((n.get("CPU", 0) for n in nodes), default=0):
        raise LTError(f"--cpus-per-trial {cpus:g} is more CPUs than any node of {where} has "
                      f"(largest: {max((n.get('CPU', 0) for n in nodes), default=0):g})")
    return {"nodes": len(nodes), **total}


class RunMap:
    """Trial id → store run id, filled as trials start (Optuna trials are claimed then)."""

    def __init__(self, store, claimed: set[str]):
        self.store, self.claimed = store, claimed
        self.by_trial: dict[str, str] = {}
        self.saved: set[str] = set()
        self.errors: dict[str, str] = {}

    def run_id(self, trial) -> str:
        if trial.trial_id not in self.by_trial:
            config = job_config(trial.config)
            run_id = self.store.run_id_for(config)
            if run_id not in self.claimed:
                self.store.claim(config, os.getpid(), force=True)
                self.claimed.add(run_id)
            self.by_trial[trial.trial_id] = run_id
        return self.by_trial[trial.trial_id]


class _Unpickled:
    """Tune pickles its callbacks and stopper into the experiment state (for `Tuner.restore`); ours
    hold the live store and progress bar, so they pickle as inert placeholders (a restart of the
    sweep resumes from the store instead)."""

    def __reduce__(self):
        return (_Inert, ())


class _Inert:
    def __call__(self, *args, **kwargs):
        return False

    def __getattr__(self, name):
        return lambda *args, **kwargs: False


def make_callback(runs: RunMap):
    from ray import tune

    class StoreCallback(_Unpickled, tune.Callback):
        """The driver's side of every trial: epochs, result and failures into the store, once."""

        def on_trial_start(self, iteration, trials, trial, **info):
            runs.store.mark_running(runs.run_id(trial), os.getpid(), force=True)

        def on_trial_recover(self, iteration, trials, trial, **info):
            runs.store.note_retry(runs.run_id(trial), "its Ray worker failed; Tune is retrying the trial")

        def on_trial_result(self, iteration, trials, trial, result, **info):
            run_id = runs.run_id(trial)
            payload, row = result.pop("_final", None), result.pop("_row", None)
            worker, device = result.pop("_worker", None), result.pop("_device", None)
            if device:
                runs.store.set_device(run_id, device)
            if row is not None:
                row["worker"] = worker
                runs.store.add_epoch(run_id, row)
            if payload is not None and run_id not in runs.saved:
                _save(runs.store, run_id, payload)
                runs.saved.add(run_id)

        def on_trial_error(self, iteration, trials, trial, **info):
            run_id = runs.run_id(trial)
            message = _error_text(trial)
            runs.errors[run_id] = message
            runs.store.mark_finished(run_id, "failed", message)

        def on_trial_complete(self, iteration, trials, trial, **info):
            run_id = runs.run_id(trial)
            if run_id not in runs.saved:
                why = ("stopped by request" if runs.store.stop_requested(run_id) else
                       f"stopped early by ASHA after epoch {(runs.store.get(run_id) or {}).get('epoch', 0)}")
                runs.store.mark_finished(run_id, "stopped", why)

    return StoreCallback()


def make_stopper(runs: RunMap, sweep_ids: list[str]):
    from ray import tune

    class StoreStopper(_Unpickled, tune.Stopper):
        """A trial stops after the epoch in which its run's Stop was requested; the whole Tune run
        ends when every run of the sweep still to train has a Stop request."""

        def __init__(self):
            self.checked, self.all = 0.0, False

        def __call__(self, trial_id, result):
            run_id = runs.by_trial.get(trial_id)
            return bool(run_id and runs.store.stop_requested(run_id))

        def stop_all(self):
            if time.monotonic() - self.checked > 1.0:
                self.checked = time.monotonic()
                open_ids = [r for r in sweep_ids if r not in runs.saved]
                self.all = bool(open_ids) and all(runs.store.stop_requested(r) for r in open_ids)
            return self.all

    return StoreStopper()


def _save(store, run_id: str, payload: bytes) -> None:
    from ..engine.checkpoints import checkpoint_path
    from ..result import RunResult

    data = pickle.loads(zlib.decompress(payload))
    result = RunResult.from_dict(data["result"])
    if not store.replaces(run_id, result.status):  # the earlier finished result stays
        store.mark_finished(run_id, result.status, result.error or "stopped before the end")
        return
    workers = {h["epoch"]: h.get("worker") for h in store.history(run_id)}
    for row in result.history:  # keep which node and process trained each epoch
        if workers.get(row.get("epoch")):
            row["worker"] = workers[row["epoch"]]
    checkpoint = None
    if data["state"]:
        checkpoint = checkpoint_path(result.config, store.checkpoint_root(run_id))
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint.with_suffix(".tmp")
        tmp.write_bytes(data["state"])
        tmp.replace(checkpoint)
    store.save_result(result, run_id, checkpoint)


def _error_text(trial) -> str:
    text = ""
    try:
        if trial.error_file and Path(trial.error_file).exists():
            lines = [l for l in Path(trial.error_file).read_text(errors="replace").splitlines() if l.strip()]
            text = lines[-1] if lines else ""
    except Exception:  # noqa: BLE001 - the message is best effort
        pass
    return f"the Ray trial failed after its retries: {text[:300] or 'no error text'}"


def run_ray(spec: SweepSpec, store, configs: list[Config], sweep_ids: list[str], cached: int, progress,
            report, address: str | None = None, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
            max_failures: int = 2, storage: Path | None = None) -> bool:
    """Run `configs` (grid or random search; not finished in the store) — or, for `optuna`, the
    search's trials — as Tune trials. Returns False when the sweep was stopped (Ctrl-C or Stop)."""
    import ray
    from ray import tune

    from ..version import code_version
    from .progress import FINAL

    check_trial_options(cpus_per_trial, gpus_per_trial, max_failures)
    if gpus_per_trial == 0 and spec.base.device == "cuda":
        raise LTError("--device cuda with --gpus-per-trial 0: Ray gives such a trial no GPU")
    teachers = teacher_payloads(store, configs)
    connect(address, num_cpus=None)
    try:
        check_resources(cpus_per_trial, gpus_per_trial, address)
        claimed = set()
        for config in configs:
            claimed.add(store.claim(config, os.getpid(), force=True)[1])
        runs = RunMap(store, claimed)
        common = {"code_version": code_version(), "cpus": cpus_per_trial,
                  "teachers": teachers}
        trainable = tune.with_resources(train_trial, {"cpu": cpus_per_trial, "gpu": gpus_per_trial})
        storage = Path(storage or store.root / "ray_results")
        storage.mkdir(parents=True, exist_ok=True)
        experiments = _experiments(spec, store, configs, common)
        complete = True
        for name, param_space, tune_config in experiments:
            run_config = tune.RunConfig(
                name=f"sweep-{spec.key}-{name}-{int(time.time())}", storage_path=str(storage), verbose=0,
                callbacks=[make_callback(runs), _ProgressCallback(runs, store, sweep_ids, cached, progress, report)],
                stop=make_stopper(runs, sweep_ids), failure_config=tune.FailureConfig(max_failures=max_failures))
            tuner = tune.Tuner(trainable, param_space=param_space, tune_config=tune_config, run_config=run_config)
            tuner.fit()
            left = [r for r in runs.claimed if (store.get(r) or {}).get("status") in ("queued", "running")]
            if left:
                for run_id in left:
                    store.mark_finished(run_id, "stopped", "the sweep was stopped (Ctrl-C or Stop) before "
                                        "this run finished")
                complete = False
                break
        ids = list(dict.fromkeys([*sweep_ids, *runs.by_trial.values()]))
        statuses = {rid: (store.get(rid) or {}).get("status", "queued") for rid in ids}
        progress.update(statuses, cached)
        report(progress)
        return complete and all(s in FINAL for s in statuses.values())
    finally:
        ray.shutdown()


def _experiments(spec: SweepSpec, store, configs, common: dict):
    """(name, param_space, TuneConfig) of each Tune run: one for a grid or random search, one per
    method × ratio × seed for an Optuna search (its earlier finished trials are told to Optuna)."""
    from ray import tune

    scheduler = None
    if spec.asha:
        from ray.tune.schedulers import ASHAScheduler

        # max_t one past the last epoch: a trial that survives every rung ends by itself and reports its result
        scheduler = ASHAScheduler(time_attr="epoch", max_t=spec.base.epochs + 1,
                                  grace_period=max(min(spec.grace_epochs, spec.base.epochs), 1), reduction_factor=2)
    search_args = {"metric": OBJECTIVE, "mode": "max"} if spec.is_search else {}
    if spec.search != "optuna":
        if not configs:
            return []
        space = {**common, "config": tune.grid_search([c.to_dict() for c in configs])}
        return [("grid", space, tune.TuneConfig(scheduler=scheduler, reuse_actors=True, **search_args))]
    from ray.tune.search.optuna import OptunaSearch

    out = []
    for i, (method, ratio, seed) in enumerate(spec.cells()):
        base = spec.config_for(method, ratio, seed)
        done = _finished_points(store, base, spec)
        todo = spec.samples - len(done)
        if todo <= 0:
            continue
        domains = {r.name: (tune.randint(int(r.low), int(r.high) + 1) if r.kind == "int" else
                            tune.loguniform(r.low, r.high) if r.log else tune.uniform(r.low, r.high))
                   for r in spec.ranges}
        searcher = OptunaSearch(metric=OBJECTIVE, mode="max", seed=seed,
                                points_to_evaluate=[p for p, _ in done] or None,
                                evaluated_rewards=[v for _, v in done] or None)
        space = {**common, "base": base.to_dict(), "kinds": {r.name: r.kind for r in spec.ranges},
                 "values": domains}
        out.append((f"optuna{i}", space, tune.TuneConfig(search_alg=searcher, scheduler=scheduler, reuse_actors=True,
                                                         **search_args, num_samples=todo)))
    return out


def _finished_points(store, base: Config, spec: SweepSpec) -> list[tuple[dict, float]]:
    """Parameter points of this cell already finished in the store, with their objective."""
    names = {r.name for r in spec.ranges}
    want = {k: v for k, v in base.to_dict().items() if k != "method_params"}
    fixed = {k: v for k, v in base.method_params if k not in names}
    points = []
    for row in store.list_runs(status="done", dataset=base.dataset, method=base.method):
        config = store.config(row["run_id"])
        d = config.to_dict()
        if any(d[k] != v for k, v in want.items()):
            continue
        params = dict(config.method_params)
        if {k: v for k, v in params.items() if k not in names} != fixed or not names <= set(params):
            continue
        value = store.load_result(row["run_id"]).metrics.get(OBJECTIVE)
        if value is not None:
            points.append(({n: params[n] for n in names}, value))
    return points[: spec.samples]


class _ProgressCallback:
    """Redraws the progress line whenever a trial starts, reports or ends."""

    def __new__(cls, runs, store, sweep_ids, cached, progress, report):
        from ray import tune

        class ProgressCallback(_Unpickled, tune.Callback):
            def _tick(self, *args, **kwargs):
                ids = list(dict.fromkeys([*sweep_ids, *runs.by_trial.values()]))
                progress.total = max(progress.total, len(ids))
                progress.update({rid: (store.get(rid) or {}).get("status", "queued") for rid in ids}, cached)
                report(progress)

            on_trial_start = on_trial_complete = on_trial_error = _tick

            def on_trial_result(self, iteration, trials, trial, result, **info):
                self._tick()

        return ProgressCallback()
