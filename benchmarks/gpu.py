"""GPU benchmark: what a researcher asks first — images/s against a conventional loop on the same
GPU, what each speed step adds, the wall time of one CIFAR-10-LT run, and how several runs share a GPU.

    python benchmarks/gpu.py [--parts env,throughput,sync,compile,run,multi,table] [--results FILE]
                             [--budget SECONDS] [--device cuda] [--tiny]

Data: `synthetic_cifar10` (random tinted images at CIFAR-10's size) with the exp. profile at ρ=100,
i.e. 12,406 training images like CIFAR-10-LT ρ=100: the same work per epoch as the real set.
Every part prints its figures and merges them into `--results` (JSON), so a later part (and a later
process) can use them: `run` trains with the fastest setting `throughput`/`compile` measured.

(1) throughput — images/s of training steps, one process, same GPU, same ResNet-32, batch 128:
    conventional: torchvision-style Dataset + DataLoader (per-sample PIL crop/flip, ToTensor,
    Normalize; 8 workers, pinned memory), NCHW fp32, a plain step loop;
    ltcore: Trainer.train_epoch (device-resident uint8 data, batched augmentation) as fp32 eager,
    bf16+channels_last eager, and fp32 / bf16 with the CUDA-graph step (the default).
(2) sync — synchronising CUDA calls in one epoch (torch.cuda.set_sync_debug_mode), default path.
(3) compile — torch.compile of the backbone (LTLAB_COMPILE=<mode>, ltcore/engine/compiling.py) under the
    CUDA-graph step, each mode in its own process with its own time limit: compilation time (first
    epoch minus a steady epoch) apart from steady-state images/s, against the uncompiled graph step.
(4) run — wall time of one ResNet-32 ρ=100 run (ldam_drw, LDAM-DRW recipe, eval every 10 epochs)
    with the fastest setting measured before; the elapsed time is printed every 20 epochs, so a
    run cut off by a time limit still shows its pace.
(5) multi — total images/s of N runs sharing the GPU (N processes, each its own graphed trainer,
    a fixed number of epochs after a common start), without and with CUDA MPS
    (`nvidia-cuda-mps-control -d`, its pipe/log folders under `--mps-dir`; stopped at the end), and
    N graphed trainers on N CUDA streams of one process (a measurement only, not a training path).
(6) table — the 20 presets of `reproduce cifar10-lt` at ρ=100, one seed, through the job queue.

`--tiny --device cpu` runs every part on a few hundred images on a CPU: it checks this script's
logic (not speed) where no GPU is present; MPS and streams are then reported as not applicable.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ltcore import Config  # noqa: E402
from ltcore.data import load_split, make_longtail  # noqa: E402
from ltcore.recipes import RECIPES  # noqa: E402
from ltcore.engine.trainer import Trainer  # noqa: E402

ARGS: argparse.Namespace
_SPLIT = None
START = time.monotonic()


def say(msg: str) -> None:
    print(msg, flush=True)


def left() -> float:
    """Seconds left of --budget (inf without one)."""
    return (ARGS.budget - (time.monotonic() - START)) if ARGS.budget else float("inf")


def dataset() -> str:
    return "synthetic_cifar" if ARGS.tiny else "synthetic_cifar10"


def lt_data(seed: int = 0):
    """CIFAR-10-LT ρ=100-sized long-tailed data (12,406 images; --tiny: 250), the split loaded once."""
    global _SPLIT
    if _SPLIT is None:
        _SPLIT = load_split(dataset())
    data = make_longtail(_SPLIT, "exp", 100.0, seed)
    if ARGS.tiny:  # a fifth of each class (at least one image): the logic, not the speed, is checked
        keep = torch.cat([idx[: max(len(idx) // 5, 1)] for idx in
                          (data.train_idx[data.y_train == k] for k in range(len(data.counts)))])
        data = dataclasses.replace(data, train_idx=keep, counts=[max(c // 5, 1) for c in data.counts])
    return data


def recipe_config(**changes) -> Config:
    values = {**RECIPES.get("ldam").obj, "dataset": dataset(), "profile": "exp", "ratio": 100.0,
              "device": ARGS.device, "eval_every": 10}
    values.update(changes)
    return Config.from_dict(values)


def sync():
    if ARGS.device == "cuda":
        torch.cuda.synchronize()


# -- results shared between parts and processes ---------------------------------------------------
def load_results() -> dict:
    try:
        return json.loads(Path(ARGS.results).read_text())
    except (OSError, ValueError):
        return {}


def save_result(key: str, value) -> None:
    data = load_results()
    data[key] = value
    Path(ARGS.results).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{ARGS.results}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(ARGS.results)


class Setting:
    """Environment switches of one speed setting, applied while a trainer is built and trained."""

    def __init__(self, graphs: bool = True, compile_mode: str | None = None):
        self.graphs, self.compile_mode = graphs, compile_mode
        self.saved = {}

    def __enter__(self):
        want = {"LTLAB_CUDA_GRAPHS": "1" if self.graphs else "0", "LTLAB_COMPILE": self.compile_mode or "0"}
        for k, v in want.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ltcore_rate(precision: str, graphs: bool, compile_mode: str | None = None, epochs: int | None = None,
                keep: bool = False) -> tuple[float, dict]:
    """Steady-state training images/s of Trainer.train_epoch after one warm-up epoch (capture and
    compilation happen there), and the warm-up epoch's wall time beside one steady epoch's."""
    epochs = epochs or (1 if ARGS.tiny else 3)
    with Setting(graphs, compile_mode):
        cfg = recipe_config(method="ce", precision=precision, epochs=200)
        t0 = time.perf_counter()
        trainer = Trainer(cfg, data=lt_data())
        setup = time.perf_counter() - t0
        t1 = time.perf_counter()
        trainer.train_epoch(10)  # warm-up (and capture / compilation), at the base learning rate
        sync()
        warm = time.perf_counter() - t1
        t = time.perf_counter()
        for e in range(11, 11 + epochs):
            trainer.train_epoch(e)
        sync()
        steady = (time.perf_counter() - t) / epochs
    rate = len(trainer.train_batches) / steady
    info = {"kernels_per_step": None, "setup_s": round(setup, 2), "first_epoch_s": round(warm, 2),
            "epoch_s": round(steady, 3), "compile_s": round(warm - steady, 1) if compile_mode else None,
            "graph": trainer.graph_step.summary() if trainer.graph_step else trainer.extras.get("cuda_graph"),
            "compiled": trainer.fast_features.summary() if trainer.fast_features else None}
    if keep:  # for launches_per_step after the figures are out (a profiler problem must not lose them)
        info["trainer"] = trainer
    return rate, info


def launches_per_step(trainer) -> int | str:
    """CUDA kernels (on a CPU: ATen operators) of one eager training step of this trainer, with its
    compiled backbone when it has one — what a CUDA graph replays per step. After the timing: the
    step changes the model, which is not used afterwards."""
    from torch.profiler import ProfilerActivity, profile

    bs = trainer.config.batch_size
    xb, yb = next(iter(trainer.train_batches.batches(torch.arange(bs, device=trainer.device), bs)))
    cuda = ARGS.device == "cuda"
    if trainer.fast_features is not None:
        trainer.model.fast_features = trainer.fast_features
    try:
        trainer.model.train()
        with profile(activities=[ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU]) as prof:
            trainer.optimizer.zero_grad(set_to_none=True)
            trainer._step_body(xb, yb).backward()
            trainer.optimizer.step()
            sync()
        if cuda:
            return sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
        return sum(1 for e in prof.events() if e.name.startswith("aten::"))
    except Exception as exc:  # noqa: BLE001 - a profiler problem only loses this figure
        return f"not counted ({type(exc).__name__}: {str(exc)[:80]})"
    finally:
        trainer.model.__dict__.pop("fast_features", None)


# -- parts ----------------------------------------------------------------------------------------
def part_env() -> None:
    import platform

    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
            "cpus": os.cpu_count(), "device": ARGS.device}
    try:
        import triton
        info["triton"] = triton.__version__
    except Exception as exc:  # noqa: BLE001 - inductor on CUDA needs triton: say so
        info["triton"] = f"missing ({type(exc).__name__})"
    if ARGS.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    sms=props.multi_processor_count, capability=f"{props.major}.{props.minor}",
                    bf16=torch.cuda.is_bf16_supported())
    info["mps_control"] = shutil.which("nvidia-cuda-mps-control") or "not found"
    for mod in ("ray", "streamlit"):
        info[f"{mod}_imported"] = mod in sys.modules
    say("env: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    save_result("env", info)


def part_throughput() -> None:
    from throughput import conventional_images_per_s

    steps = 3 if ARGS.tiny else ARGS.steps
    workers = 2 if ARGS.tiny else ARGS.loader_workers
    out = {}
    try:
        conv = conventional_images_per_s(ARGS.device, steps, workers)
        out["conventional"] = conv
        say(f"{'conventional loop (DataLoader, ' + str(workers) + ' workers, PIL transforms, fp32)':58s}: "
            f"{conv:9.0f} images/s")
    except Exception as exc:  # noqa: BLE001 - report and go on with the other variants
        conv = None
        say(f"conventional loop: FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    variants = [("eager_fp32", "ltcore fp32, eager", "fp32", False),
                ("eager_bf16", "ltcore bf16 + channels_last, eager", "bf16", False),
                ("graph_fp32", "ltcore fp32 + CUDA graph", "fp32", True),
                ("graph_bf16", "ltcore bf16 + channels_last + CUDA graph (default)", "bf16", True)]
    for key, label, precision, graphs in variants:
        try:
            rate, info = ltcore_rate(precision, graphs)
        except Exception as exc:  # noqa: BLE001
            say(f"{label:58s}: FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
            continue
        out[key] = rate
        ratio = f"ratio {rate / conv:5.2f}×" if conv else ""
        say(f"{label:58s}: {rate:9.0f} images/s  {ratio}  (first epoch {info['first_epoch_s']} s, "
            f"steady {info['epoch_s']} s; graph {info['graph']})")
        save_result("throughput", out)
    save_result("throughput", out)


def part_sync() -> None:
    cfg = recipe_config(method="ce", epochs=200)
    trainer = Trainer(cfg, data=lt_data())
    trainer.train_epoch(10)
    sync()
    if ARGS.device != "cuda":
        say("synchronising CUDA calls: not applicable on a CPU")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            trainer.train_epoch(11)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    sync()
    steps = (len(trainer.train_batches) + cfg.batch_size - 1) // cfg.batch_size
    where = sorted({str(w.message).splitlines()[0][:90] for w in caught})
    say(f"synchronising CUDA calls in one epoch of {steps} steps: {len(caught)} "
        f"(the end-of-epoch read of loss/accuracy is one) {where}")
    save_result("sync_calls_per_epoch", len(caught))


def part_compile() -> None:
    """Baseline (graph, no compile) here; each compile mode in a child process with its own limit."""
    results = {}
    rate, info = ltcore_rate("bf16", True, keep=True)
    say(f"{'bf16 + CUDA graph, no compile':58s}: {rate:9.0f} images/s")
    with Setting(True, None):
        info["kernels_per_step"] = launches_per_step(info.pop("trainer"))
    say(f"  {info['kernels_per_step']} {'kernels' if ARGS.device == 'cuda' else 'operators'} in one eager step "
        "(profiled; the CUDA graph replays them)")
    results["none"] = {"images_s": rate, **info}
    save_result("compile", results)
    for mode in ARGS.compile_modes.split(","):
        limit = min(ARGS.compile_cap, left() - 5)
        if limit < 20:
            say(f"compile mode {mode}: skipped, {max(left(), 0):.0f} s of the budget left")
            continue
        cmd = [sys.executable, __file__, "--parts", "compile1", "--compile-mode", mode, "--device", ARGS.device,
               "--results", ARGS.results] + (["--tiny"] if ARGS.tiny else [])
        t = time.monotonic()
        try:
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
                code, text = proc.returncode, proc.stdout + proc.stderr
            except subprocess.TimeoutExpired as exc:  # the figures may be out before the kernel count
                code, text = "timeout", _text(exc.stdout) + _text(exc.stderr)
            tail = text.strip().splitlines()
            line = next((l for l in reversed(tail) if l.startswith("COMPILE ")), None)
            if line is None and code == "timeout":
                raise subprocess.TimeoutExpired(cmd, limit)
            if line:
                got = json.loads(line[len("COMPILE "):])
                got["compile_s"] = round(got["first_epoch_s"] - info["first_epoch_s"], 1)
                results[mode] = got
                say(f"{'bf16 + CUDA graph + torch.compile ' + mode:58s}: {got['images_s']:9.0f} images/s "
                    f"({got['images_s'] / rate:.2f}× the uncompiled graph); compilation ≈ {got['compile_s']} s "
                    f"(first epoch {got['first_epoch_s']} s vs {info['first_epoch_s']} s uncompiled; steady epoch "
                    f"{got['epoch_s']} s vs {info['epoch_s']} s); {got['kernels_per_step']} kernels per step vs "
                    f"{info['kernels_per_step']}; graph {got['graph']}; compiled {got['compiled']}")
            else:
                results[mode] = {"failed": f"rc {code}: " + " | ".join(tail[-3:])[:400]}
                say(f"torch.compile {mode}: FAILED rc {code}: " + " | ".join(tail[-6:])[:1200])
        except subprocess.TimeoutExpired:
            results[mode] = {"failed": f"did not finish in {limit:.0f} s"}
            say(f"torch.compile {mode}: did not finish (compilation + 1 + 3 epochs) within {limit:.0f} s")
        say(f"  ({mode}: {time.monotonic() - t:.0f} s in its process)")
        save_result("compile", results)


def part_compile1() -> None:
    """One compile mode (a child of `compile`): its figures, then again with the kernel count."""
    rate, info = ltcore_rate("bf16", True, ARGS.compile_mode, keep=True)
    trainer = info.pop("trainer")
    print("COMPILE " + json.dumps({"images_s": rate, **info}, default=str), flush=True)
    with Setting(True, ARGS.compile_mode):
        info["kernels_per_step"] = launches_per_step(trainer)
    print("COMPILE " + json.dumps({"images_s": rate, **info}, default=str), flush=True)


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def fastest_setting() -> tuple[str, str, bool, str | None]:
    """(label, precision, graphs, compile mode) with the most steady-state images/s measured so far."""
    data = load_results()
    cands = []
    thr = data.get("throughput", {})
    if thr.get("graph_bf16"):
        cands.append((thr["graph_bf16"], "bf16 + CUDA graph", "bf16", True, None))
    if thr.get("graph_fp32"):
        cands.append((thr["graph_fp32"], "fp32 + CUDA graph", "fp32", True, None))
    for mode, got in (data.get("compile") or {}).items():
        if mode != "none" and isinstance(got, dict) and got.get("images_s"):
            cands.append((got["images_s"], f"bf16 + CUDA graph + torch.compile {mode}", "bf16", True, mode))
    if not cands:
        return "bf16 + CUDA graph (the default; nothing measured before)", "bf16", True, None
    best = max(cands, key=lambda c: c[0])
    return f"{best[1]} ({best[0]:.0f} images/s measured)", best[2], best[3], best[4]


def part_run() -> None:
    label, precision, graphs, mode = fastest_setting()
    epochs = 2 if ARGS.tiny else ARGS.run_epochs
    say(f"setting: {label}")
    tiny = {"warmup_epochs": 0, "milestones": (1,)} if ARGS.tiny else {}
    cfg = recipe_config(method="ldam_drw", epochs=epochs, precision=precision, eval_every=min(10, epochs), **tiny)
    t = time.perf_counter()
    marks = []

    def on_event(e):
        if e["type"] == "epoch" and (e["epoch"] % 20 == 0 or e["epoch"] == 1):
            marks.append((e["epoch"], time.perf_counter() - t))
            say(f"  epoch {e['epoch']:3d}: {marks[-1][1]:6.1f} s elapsed")

    with Setting(graphs, mode):
        trainer = Trainer(cfg, data=lt_data(), on_event=on_event)
        result = trainer.fit()
    sync()
    wall = time.perf_counter() - t
    evals = sum(1 for h in result.history if h["balanced_acc"] is not None)
    say(f"one CIFAR-10-LT-sized ρ=100 ResNet-32 {epochs}-epoch ldam_drw run: {wall:.1f} s wall "
        f"({evals} test evaluations, balanced acc {100 * result.balanced_acc:.2f}% on synthetic data; "
        f"graph {result.extras.get('cuda_graph')}; compiled {result.extras.get('compiled')})")
    save_result("run", {"setting": label, "epochs": epochs, "wall_s": round(wall, 1), "marks": marks})


# -- several runs on one GPU --------------------------------------------------------------------------
def part_worker() -> None:
    """One of N processes of `multi`: build and warm a graphed trainer, say ready, wait for the common
    start, train --worker-epochs epochs, report images and times."""
    cfg = recipe_config(method="ce", epochs=200)
    trainer = Trainer(cfg, data=lt_data())
    trainer.train_epoch(10)
    sync()
    Path(ARGS.ready).touch()
    while not Path(ARGS.go).exists():
        time.sleep(0.005)
    t0 = time.time()
    images = 0
    for e in range(11, 11 + ARGS.worker_epochs):
        trainer.train_epoch(e)
        images += len(trainer.train_batches)
    sync()
    print("WORKER " + json.dumps({"images": images, "t0": t0, "t1": time.time(), "pid": os.getpid()}), flush=True)


def run_processes(n: int, env: dict, limit: float) -> dict:
    """Total images/s of n worker processes started together (after each has built and warmed up)."""
    folder = Path(tempfile.mkdtemp(prefix="ltlab-multi-"))
    go = folder / "go"
    procs = []
    for i in range(n):
        cmd = [sys.executable, __file__, "--parts", "worker", "--device", ARGS.device, "--results", ARGS.results,
               "--ready", str(folder / f"ready{i}"), "--go", str(go), "--worker-epochs", str(ARGS.worker_epochs)]
        procs.append(subprocess.Popen(cmd + (["--tiny"] if ARGS.tiny else []), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, env=env))
    deadline = time.monotonic() + limit
    try:
        while sum((folder / f"ready{i}").exists() for i in range(n)) < n:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("workers did not get ready: " + _outputs(procs))
            time.sleep(0.05)
        go.touch()
        reports = []
        for p in procs:
            out, _ = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            line = next((l for l in out.splitlines() if l.startswith("WORKER ")), None)
            if p.returncode or not line:
                raise RuntimeError(f"a worker failed (rc {p.returncode}): " + " | ".join(out.strip().splitlines()[-3:]))
            reports.append(json.loads(line[len("WORKER "):]))
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"did not finish within {limit:.0f} s") from None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(folder, ignore_errors=True)
    span = max(r["t1"] for r in reports) - min(r["t0"] for r in reports)
    images = sum(r["images"] for r in reports)
    return {"n": n, "images_s": images / span, "span_s": round(span, 2),
            "per_run": [round(r["images"] / (r["t1"] - r["t0"])) for r in reports]}


def _outputs(procs) -> str:
    texts = []
    for p in procs:
        if p.poll() is not None and p.stdout:
            texts.append(" | ".join(p.stdout.read().strip().splitlines()[-3:]))
    return "; ".join(texts)[:600] or "(no output yet)"


class MPS:
    """A private CUDA MPS control daemon (pipe and log folders under `folder`), quit on exit."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = dict(os.environ, CUDA_MPS_PIPE_DIRECTORY=str(folder / "pipe"),
                        CUDA_MPS_LOG_DIRECTORY=str(folder / "log"))
        self.binary = shutil.which("nvidia-cuda-mps-control")

    def __enter__(self):
        if not self.binary:
            raise RuntimeError("nvidia-cuda-mps-control is not on this machine")
        for sub in ("pipe", "log"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        # no pipes: the daemon it forks could hold them open
        code = subprocess.run([self.binary, "-d"], env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode
        if code:
            raise RuntimeError(f"nvidia-cuda-mps-control -d failed (rc {code})")
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        try:
            subprocess.run([self.binary], input="quit\n", env=self.env, capture_output=True, text=True, timeout=20)
        except Exception:  # noqa: BLE001 - the shell script quits it again
            pass
        try:
            logs = (self.folder / "log" / "control.log").read_text(errors="replace").strip().splitlines()
            say("  MPS control log (last lines): " + " | ".join(logs[-4:])[:600])
        except OSError:
            pass


KINDS = {"p": "processes", "m": "mps", "s": "streams"}


def part_multi() -> None:
    """The --multi-plan entries in order (p: processes, m: processes under MPS, s: streams of one
    process; the number is how many runs), e.g. p1,p8,m8,m4,s8: what matters most first, so a time
    limit cuts the least informative. Consecutive m entries share one MPS daemon."""
    plan = [(KINDS[e[0]], int(e[1:])) for e in ARGS.multi_plan.split(",") if e]
    results = {"processes": {}, "mps": {}, "streams": {}}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CUDA_MPS_")}

    def report(kind: str, n: int, got: dict) -> None:
        results[kind][n] = got
        one = results["processes"].get(1, {}).get("images_s")
        gain = f" ({got['images_s'] / one:.2f}× one process alone)" if one else ""
        per = f"; per run {got['per_run']} ({got['span_s']} s)" if "per_run" in got else ""
        say(f"{kind:9s} N={n}: {got['images_s']:9.0f} images/s in total{gain}{per}")
        save_result("multi", results)

    def measure(kind: str, n: int, env: dict | None) -> None:
        limit = min(left() - 3, ARGS.multi_cap)
        if limit < 10:
            say(f"{kind} N={n}: skipped, {max(left(), 0):.0f} s of the budget left")
            return
        try:
            got = streams_rate(n) if kind == "streams" else run_processes(n, env, limit)
        except Exception as exc:  # noqa: BLE001
            results[kind][n] = {"failed": str(exc)[:400]}
            say(f"{kind} N={n}: FAILED {type(exc).__name__}: {str(exc)[:600]}")
            return
        report(kind, n, got)

    i = 0
    while i < len(plan):
        kind, n = plan[i]
        if kind != "mps":
            measure(kind, n, base_env)
            i += 1
            continue
        group = []
        while i < len(plan) and plan[i][0] == "mps":
            group.append(plan[i][1])
            i += 1
        if ARGS.device != "cuda":
            say(f"mps N={','.join(map(str, group))}: not applicable on a CPU")
            continue
        if left() < 15:
            say(f"mps N={','.join(map(str, group))}: skipped, {max(left(), 0):.0f} s of the budget left")
            continue
        try:
            with MPS(Path(ARGS.mps_dir)) as mps:
                say(f"  MPS control daemon started (pipe {mps.env['CUDA_MPS_PIPE_DIRECTORY']})")
                for n in group:
                    measure("mps", n, mps.env)
        except Exception as exc:  # noqa: BLE001
            results["mps"]["failed"] = str(exc)[:400]
            say(f"MPS: FAILED {str(exc)[:600]}")
    save_result("multi", results)


def streams_rate(n: int) -> dict:
    """N graphed trainers in this process, each replaying its step on its own CUDA stream, steps
    interleaved round-robin; total images/s over --worker-epochs epochs each."""
    if ARGS.device != "cuda":
        raise RuntimeError("CUDA streams: not applicable on a CPU")
    with Setting(True, None):
        trainers = [Trainer(recipe_config(method="ce", epochs=200, seed=i), data=lt_data(i)) for i in range(n)]
    for t in trainers:
        t.train_epoch(10)
        if t.graph_step is None or t.graph_step.graph is None:
            raise RuntimeError(f"a trainer has no captured graph ({t.extras.get('cuda_graph')})")
    sync()
    streams = [torch.cuda.Stream() for _ in trainers]
    bs = trainers[0].config.batch_size
    images = 0
    start = time.perf_counter()
    for e in range(11, 11 + ARGS.worker_epochs):
        gens = []
        for t, s in zip(trainers, streams):
            t.model.train()
            t.set_lr(0.1)
            t.graph_step.set_lr()
            order = t.method.epoch_order(t.train_batches.y, e, t.gen)
            s.wait_stream(torch.cuda.current_stream())
            gens.append(t.train_batches.batches(order, bs, drop_last=True))
        active = list(range(n))
        while active:
            for i in list(active):
                with torch.cuda.stream(streams[i]):
                    batch = next(gens[i], None)
                    if batch is None:
                        active.remove(i)
                        continue
                    trainers[i].graph_step(*batch)
                    images += bs
    for s in streams:
        torch.cuda.current_stream().wait_stream(s)
    sync()
    return {"n": n, "images_s": images / (time.perf_counter() - start)}


def part_table() -> None:
    from ltcore.reproduce import CIFAR_METHODS, TABLES, run_local, table_configs
    from ltcore.runs.jobs import default_workers
    from ltcore.runs.store import RunStore

    folder = Path(tempfile.mkdtemp(prefix="ltlab-gpu-table-"))
    os.environ["LTLAB_DATA"] = str(folder)
    configs = table_configs(TABLES["cifar10-lt"], [0], dataset(), 2 if ARGS.tiny else ARGS.table_epochs,
                            list(CIFAR_METHODS), [100.0], device=ARGS.device)
    store = RunStore(folder / "runs.sqlite")
    workers = ARGS.workers or default_workers()
    t = time.perf_counter()
    outcomes = run_local(configs, store, workers, progress=lambda m: say("  " + m))
    wall = time.perf_counter() - t
    ok = [r for r in outcomes.values() if not isinstance(r, str)]
    images = sum(sum(r.class_counts) * r.epochs_completed for r in ok)
    say(f"{len(configs)}-preset table (ρ=100, {configs[0].epochs} epochs, {workers} runs at once): {wall:.1f} s wall, "
        f"{len(ok)} done, {len(configs) - len(ok)} failed, {images / wall:.0f} training images/s in total")


PARTS = {"env": part_env, "throughput": part_throughput, "sync": part_sync, "compile": part_compile,
         "compile1": part_compile1, "run": part_run, "multi": part_multi, "worker": part_worker,
         "table": part_table}


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="env,throughput,sync,compile,run,multi")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--tiny", action="store_true", help="a few hundred images, 1-2 epochs: checks logic on a CPU")
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds this process may take (parts skip what does not fit)")
    ap.add_argument("--results", default=os.path.join(os.environ.get("OUT", tempfile.gettempdir()), "gpu-results.json"))
    ap.add_argument("--steps", type=int, default=40, help="timed steps of the conventional loop")
    ap.add_argument("--loader-workers", type=int, default=8)
    ap.add_argument("--compile-modes", default="default,max-autotune-no-cudagraphs")
    ap.add_argument("--compile-mode", default="default", help=argparse.SUPPRESS)
    ap.add_argument("--compile-cap", type=float, default=75, help="seconds for one compile mode's process")
    ap.add_argument("--run-epochs", type=int, default=200)
    ap.add_argument("--multi-plan", default="p1,p8,m8,m4,s8,s4,p4,m1",
                    help="multi: p/m/s + runs (processes, processes under MPS, streams of one process)")
    ap.add_argument("--multi-cap", type=float, default=40, help="seconds for one multi measurement")
    ap.add_argument("--worker-epochs", type=int, default=2)
    ap.add_argument("--mps-dir", default=os.path.join(tempfile.gettempdir(), "ltlab-mps"))
    ap.add_argument("--ready", help=argparse.SUPPRESS)
    ap.add_argument("--go", help=argparse.SUPPRESS)
    ap.add_argument("--table-epochs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None, help="table: runs at once (default: per free memory)")
    ARGS = ap.parse_args()
    if ARGS.device == "cuda" and not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py needs a CUDA GPU (none is visible); --device cpu --tiny checks its logic, "
                 "benchmarks/throughput.py measures a CPU")
    if ARGS.tiny:
        ARGS.worker_epochs = 1
    for name in ARGS.parts.split(","):
        t = time.perf_counter()
        if name not in ("worker", "compile1"):
            say(f"--- {name}")
        try:
            PARTS[name]()
        except Exception as exc:  # noqa: BLE001 - one failed part never stops the next
            say(f"{name}: FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
            if name in ("worker", "compile1"):
                raise
        if name not in ("worker", "compile1"):
            say(f"--- {name} took {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
