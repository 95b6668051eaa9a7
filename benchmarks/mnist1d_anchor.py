"""Sanity anchor: plain cross-entropy on balanced MNIST-1D lands near the paper's figures.

Greydanus 2020 ("Scaling down deep learning", Fig. 2; greydanus/mnist1d) reports test accuracy on
its 4000-signal training set (1000 test signals): CNN ≈ 94%, MLP ≈ 68% (logistic regression 32%,
GRU 91%). This script trains the lab's `cnn1d` (the paper's ConvBase) and `mlp` with the lab's
Trainer, plain `ce`, no imbalance:

1. on the paper's own set (`ltcore.data.mnist1d_set.paper_split`: the package defaults, 5000
   signals, seed 42, 4000 / 1000), with the lab's SGD at batch 100 (the paper uses Adam, lr 1e-2,
   batch 100, 6000–8000 steps; the lab's Trainer is SGD-only);
2. on the lab's `mnist1d` with `--profile none` (1000/class training pool, 400/class test), the
   same run as `python -m ltcore train --dataset mnist1d --profile none --model M --epochs 100
   --batch-size 100 --weight-decay 5e-4 --device cpu`.

    python benchmarks/mnist1d_anchor.py [--epochs 100] [--seeds 0,1,2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ltcore import Config  # noqa: E402
from ltcore.data import LongTailData  # noqa: E402
from ltcore.data.mnist1d_set import paper_split  # noqa: E402
from ltcore.engine.trainer import Trainer, prepare_data  # noqa: E402


def recipe(model: str, epochs: int, seed: int, **extra) -> Config:
    return Config(dataset="mnist1d", profile="none", model=model, method="ce", epochs=epochs,
                  batch_size=100, lr=0.1, momentum=0.9, weight_decay=5e-4, schedule="cosine",
                  seed=seed, device="cpu", precision="fp32", **extra)


def run(config: Config, data: LongTailData) -> tuple[float, float]:
    result = Trainer(config, data=data).fit()
    return result.overall_acc, result.balanced_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(1)  # a 4k-parameter CNN: one thread is fastest, and fair on a shared machine
    paper = paper_split()
    paper_data = LongTailData(paper, torch.arange(len(paper.y_train)), paper.available_counts(), "none", 1.0)
    print(f"paper set: {len(paper.y_train)} train / {len(paper.y_test)} test; "
          f"{args.epochs} epochs, SGD lr 0.1 cosine, batch 100, wd 5e-4, seeds {seeds}")
    for model, published in (("cnn1d", 94), ("mlp", 68)):
        for name, make in (("paper 4000", lambda s: paper_data),
                           ("lab mnist1d --profile none", lambda s: prepare_data(recipe(model, args.epochs, s)))):
            start = time.process_time()
            accs = [run(recipe(model, args.epochs, s), make(s))[0] for s in seeds]
            sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
            print(f"{model:6s} {name:28s} test acc {100 * statistics.mean(accs):5.1f} ± {100 * sd:.1f}%  "
                  f"(paper ≈ {published}%)  [{time.process_time() - start:.0f} s CPU]", flush=True)


if __name__ == "__main__":
    main()
