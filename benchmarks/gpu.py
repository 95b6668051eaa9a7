"""GPU benchmark: what a researcher asks first — images/s against a conventional loop on the same
GPU, the wall time of one CIFAR-10-LT run, and of a whole table with several runs per GPU.

    python benchmarks/gpu.py [--parts throughput,sync,run,table,compile] [--run-epochs 200]
                             [--table-epochs 200] [--table-seeds 0] [--workers N]

Data: `synthetic_cifar10` (random tinted images at CIFAR-10's size: 5000/class pool, 1000/class
test) with the exp. profile at ρ=100, i.e. 12,406 training images like CIFAR-10-LT ρ=100: the
same work per epoch as the real set (CIFAR files are not needed).
(1) throughput — images/s of training steps, one process, same GPU, same ResNet-32, batch 128:
    conventional: torchvision-style Dataset + DataLoader (per-sample PIL crop/flip, ToTensor,
    Normalize; 8 workers, pinned memory), NCHW fp32, a plain step loop;
    ltcore: Trainer.train_epoch (device-resident uint8 data, batched augmentation) in the variants
    fp32 eager / bf16+channels_last eager / fp32 and bf16 with the CUDA-graph step (the default);
    `compile` times torch.compile separately (its compilation takes a while).
(2) sync — synchronising CUDA calls per epoch (torch.cuda.set_sync_debug_mode), default path.
(3) run — wall time of one ResNet-32 ρ=100 run (ldam_drw, LDAM-DRW recipe, eval every 10 epochs).
(4) table — the 20 presets of `reproduce cifar10-lt` at ρ=100, one seed, through the job queue
    with several runs per GPU (LTLAB_RUNS_PER_GPU or free memory), wall time end to end.
"""
from __future__ import annotations

import argparse
import os
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
from ltcore.train import Trainer  # noqa: E402

_SPLIT = None


def lt_data(seed: int = 0):
    """CIFAR-10-LT ρ=100-sized long-tailed data (12,406 images), the split loaded once."""
    global _SPLIT
    if _SPLIT is None:
        _SPLIT = load_split("synthetic_cifar10")
    return make_longtail(_SPLIT, "exp", 100.0, seed)


def recipe_config(**changes) -> Config:
    values = {**RECIPES.get("ldam").obj, "dataset": "synthetic_cifar10", "profile": "exp", "ratio": 100.0,
              "device": "cuda", "eval_every": 10}
    values.update(changes)
    return Config.from_dict(values)


def sync():
    torch.cuda.synchronize()


def ltcore_images_per_s(precision: str, graphs: bool, compile_: bool = False, epochs: int = 3) -> tuple[float, dict]:
    os.environ["LTLAB_CUDA_GRAPHS"] = "1" if graphs else "0"
    cfg = recipe_config(method="ce", precision=precision, compile=compile_, epochs=200)
    t0 = time.perf_counter()
    trainer = Trainer(cfg, data=lt_data())
    trainer.train_epoch(10)  # warm-up (and capture / compilation), at the base learning rate
    sync()
    warm = time.perf_counter() - t0
    n = 0
    t = time.perf_counter()
    for e in range(11, 11 + epochs):
        n += trainer.train_epoch(e)["steps"]
    sync()
    rate = len(trainer.train_batches) * epochs / (time.perf_counter() - t)
    info = {"warmup_s": warm, "graph": trainer.graph_step.summary() if trainer.graph_step else None}
    os.environ.pop("LTLAB_CUDA_GRAPHS", None)
    return rate, info


def part_throughput(args) -> None:
    from throughput import conventional_images_per_s

    conv = conventional_images_per_s("cuda", args.steps, args.loader_workers)
    print(f"conventional loop (DataLoader, {args.loader_workers} workers, per-sample PIL transforms, fp32): "
          f"{conv:9.0f} images/s", flush=True)
    variants = [("ltcore fp32, eager", "fp32", False, False), ("ltcore bf16 + channels_last, eager", "bf16", False, False),
                ("ltcore fp32 + CUDA graph", "fp32", True, False),
                ("ltcore bf16 + channels_last + CUDA graph (default)", "bf16", True, False)]
    for label, precision, graphs, comp in variants:
        try:
            rate, info = ltcore_images_per_s(precision, graphs, comp)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other variants
            print(f"{label:52s}: FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", flush=True)
            continue
        print(f"{label:52s}: {rate:9.0f} images/s  ratio {rate / conv:5.2f}×  (first epoch incl. setup "
              f"{info['warmup_s']:.1f} s; graph {info['graph']})", flush=True)


def part_compile(args) -> None:
    """torch.compile (default mode, no CUDA graph of ours): images/s after compilation, and its cost."""
    rate, info = ltcore_images_per_s("bf16", False, compile_=True)
    print(f"{'ltcore bf16 + torch.compile (no graph)':52s}: {rate:9.0f} images/s  (first epoch incl. "
          f"compilation {info['warmup_s']:.1f} s)", flush=True)


def part_sync(args) -> None:
    cfg = recipe_config(method="ce", epochs=200)
    trainer = Trainer(cfg, data=lt_data())
    trainer.train_epoch(10)
    sync()
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
    print(f"synchronising CUDA calls in one epoch of {steps} steps: {len(caught)} "
          f"(the end-of-epoch read of loss/accuracy is one) {where}", flush=True)


def part_run(args) -> None:
    cfg = recipe_config(method="ldam_drw", epochs=args.run_epochs)
    t = time.perf_counter()
    trainer = Trainer(cfg, data=lt_data())
    result = trainer.fit()
    sync()
    wall = time.perf_counter() - t
    evals = sum(1 for h in result.history if h["balanced_acc"] is not None)
    print(f"one CIFAR-10-LT-sized ρ=100 ResNet-32 {args.run_epochs}-epoch ldam_drw run: {wall:.1f} s wall "
          f"({evals} test evaluations, balanced acc {100 * result.balanced_acc:.2f}% on synthetic data; "
          f"graph {result.extras.get('cuda_graph')})", flush=True)


def part_table(args) -> None:
    from ltcore.reproduce import CIFAR_METHODS, TABLES, run_local, table_configs
    from ltcore.runs.jobs import default_workers
    from ltcore.runs.store import RunStore

    folder = Path(tempfile.mkdtemp(prefix="ltlab-gpu-table-"))
    os.environ["LTLAB_DATA"] = str(folder)
    configs = table_configs(TABLES["cifar10-lt"], [int(s) for s in args.table_seeds.split(",")],
                            "synthetic_cifar10", args.table_epochs, list(CIFAR_METHODS), [100.0], device="cuda")
    store = RunStore(folder / "runs.sqlite")
    workers = args.workers or default_workers()
    t = time.perf_counter()
    outcomes = run_local(configs, store, workers, progress=lambda m: print("  " + m, flush=True))
    wall = time.perf_counter() - t
    ok = [r for r in outcomes.values() if not isinstance(r, str)]
    images = sum(sum(r.class_counts) * r.epochs_completed for r in ok)
    print(f"{len(configs)}-preset table (ρ=100, {args.table_epochs} epochs, {workers} runs at once): {wall:.1f} s wall, "
          f"{len(ok)} done, {len(configs) - len(ok)} failed, {images / wall:.0f} training images/s in total",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="throughput,sync,run,table")
    ap.add_argument("--steps", type=int, default=40, help="timed steps of the conventional loop")
    ap.add_argument("--loader-workers", type=int, default=8)
    ap.add_argument("--run-epochs", type=int, default=200)
    ap.add_argument("--table-epochs", type=int, default=200)
    ap.add_argument("--table-seeds", default="0")
    ap.add_argument("--workers", type=int, default=None, help="table: runs at once (default: per free memory)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py needs a CUDA GPU (none is visible); benchmarks/throughput.py runs on a CPU")
    props = torch.cuda.get_device_properties(0)
    print(f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs; "
          f"torch {torch.__version__}; {os.cpu_count()} CPU cores", flush=True)
    parts = {"throughput": part_throughput, "sync": part_sync, "run": part_run, "table": part_table,
             "compile": part_compile}
    for name in args.parts.split(","):
        t = time.perf_counter()
        print(f"--- {name}", flush=True)
        parts[name](args)
        print(f"--- {name} took {time.perf_counter() - t:.1f} s", flush=True)


if __name__ == "__main__":
    main()
