"""Training throughput: the ltcore trainer vs a conventional torchvision loop, side by side.

Same model (CIFAR ResNet-32), batch 128, CIFAR-shaped synthetic data, same device, one process.
(a) ltcore: data on the device as uint8, batches indexed there, crop+flip batched on the device,
    channels_last, bf16 autocast where native ("auto"), and again in plain fp32.
(b) conventional: a torchvision-style Dataset with per-sample PIL transforms (RandomCrop(32, 4),
    RandomHorizontalFlip, ToTensor, Normalize) + DataLoader, NCHW fp32.
Also times digits ρ=50, 30 epochs end to end. Prints images/s and the ratios.

    .venv/bin/python benchmarks/throughput.py [--steps 20] [--device auto] [--workers 2]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ltcore import Config, train  # noqa: E402
from ltcore.data import load_split, make_longtail  # noqa: E402
from ltcore.models import build_model  # noqa: E402
from ltcore.engine.trainer import Trainer, resolve_device  # noqa: E402

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)


def ltcore_images_per_s(device: str, steps: int, precision: str) -> float:
    cfg = Config(dataset="synthetic_cifar", profile="none", model="resnet32", epochs=1000,
                 batch_size=128, device=device, precision=precision, schedule="constant")
    trainer = Trainer(cfg)
    data = trainer.train_batches
    order = torch.randperm(len(data), device=data.device)
    bs = cfg.batch_size

    def run(n):
        done = 0
        for i, (xb, yb) in enumerate(data.batches(order.repeat(n * bs // len(order) + 1)[: n * bs], bs)):
            with trainer.autocast():
                loss = trainer.method.training_loss(trainer.model, xb, yb, 0)
            trainer.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            trainer.optimizer.step()
            done += len(yb)
        sync(trainer.device)
        return done

    trainer.model.train()
    run(3)  # warm-up
    t = time.perf_counter()
    n = run(steps)
    return n / (time.perf_counter() - t)


def conventional_images_per_s(device: str, steps: int, workers: int) -> float:
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    split = load_split("synthetic_cifar")
    images = split.x_train.permute(0, 2, 3, 1).numpy()  # HWC uint8, as torchvision's CIFAR stores it
    labels = split.y_train.tolist()
    tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), transforms.Normalize(MEAN, STD)])

    class CifarLike(Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return tf(Image.fromarray(images[i])), labels[i]

    dev = resolve_device(device)
    loader = DataLoader(CifarLike(), batch_size=128, shuffle=True, num_workers=workers,
                        pin_memory=dev.type == "cuda", drop_last=True, persistent_workers=workers > 0)
    model = build_model("resnet32", (3, 32, 32), 10).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)

    def run(n):
        done = 0
        while done < n * 128:
            for x, y in loader:
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                done += len(y)
                if done >= n * 128:
                    break
        sync(dev)
        return done

    model.train()
    run(3)
    t = time.perf_counter()
    n = run(steps)
    return n / (time.perf_counter() - t)


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def digits_seconds(device: str) -> tuple[float, float]:
    train(Config(dataset="digits", ratio=50, epochs=2, device=device))  # imports, kernels warm
    t = time.perf_counter()
    result = train(Config(dataset="digits", ratio=50, epochs=30, seed=0, device=device))
    return time.perf_counter() - t, result.balanced_acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 2 on CPU, 8 on GPU)")
    args = ap.parse_args()
    dev = resolve_device(args.device)
    workers = args.workers if args.workers is not None else (8 if dev.type == "cuda" else 2)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {dev} ({name}); torch {torch.__version__}; ResNet-32, batch 128, {args.steps} timed steps")
    conv = conventional_images_per_s(args.device, args.steps, workers)
    print(f"conventional loop (DataLoader, {workers} workers, per-sample transforms, fp32): {conv:8.1f} images/s")
    fp32 = ltcore_images_per_s(args.device, args.steps, "fp32")
    print(f"ltcore trainer, fp32 (device-resident data, channels_last):          {fp32:8.1f} images/s"
          f"   ratio {fp32 / conv:.2f}×")
    auto = ltcore_images_per_s(args.device, args.steps, "auto")
    print(f"ltcore trainer, precision auto (bf16 autocast where native):          {auto:8.1f} images/s"
          f"   ratio {auto / conv:.2f}×")
    secs, bal = digits_seconds(args.device)
    print(f"digits ρ=50, 30 epochs end to end: {secs:.2f} s (balanced accuracy {100 * bal:.1f}%)")


if __name__ == "__main__":
    main()
