"""Device-resident batching in the style of airbench: data lives on the training device as
tensors, each epoch's order is an index tensor there, and augmentation is batched tensor ops.
No per-sample Python runs in the training loop.
"""
from __future__ import annotations

from typing import Iterator

import torch


def random_crop(x: torch.Tensor, pad: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """Batched random crop with zero padding: each image is shifted by (dy, dx) ∈ [−pad, pad]²."""
    if pad <= 0:
        return x
    b, c, h, w = x.shape
    xp = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), device=x.device, generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (b,), device=x.device, generator=gen)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (B,1,H,1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (B,1,1,W)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return xp[bi, ci, rows, cols]


def random_shift(x: torch.Tensor, pad: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """Batched random shift of 1-D signals (B, L) by s ∈ [−pad, pad] with zero fill: the 1-D form of
    the random crop with zero padding (the MNIST-1D regime's augmentation, ±3 of 40 samples)."""
    if pad <= 0:
        return x
    b, length = x.shape
    xp = torch.nn.functional.pad(x, (pad, pad))
    start = torch.randint(0, 2 * pad + 1, (b,), device=x.device, generator=gen)
    cols = start[:, None] + torch.arange(length, device=x.device)
    return xp.gather(1, cols)


def random_flip(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Batched horizontal flip of a random half of the images."""
    mask = torch.rand(x.shape[0], device=x.device, generator=gen) < 0.5
    return torch.where(mask[:, None, None, None], x.flip(3), x)


class DeviceBatches:
    """Batches of (x, y) indexed on the device from an order tensor, augmented on the device.

    Images are stored as uint8 and converted to normalised float per batch (4× less memory and
    transfer than float32); vectors are stored as float32.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device: torch.device | str,
                 mean=None, std=None, augment: str = "none", pad: int = 4,
                 channels_last: bool = False, seed: int = 0, signal: bool = False):
        self.device = torch.device(device)
        self.x = x.to(self.device)
        self.y = y.to(self.device)
        self.is_image = self.x.dim() == 4
        self.is_signal = signal and self.x.dim() == 2
        self.augment = augment
        self.pad = pad
        self.channels_last = channels_last
        shape = (1, -1, 1, 1) if self.is_image else (1, -1)
        self.mean = torch.tensor(mean, device=self.device).view(shape) if mean else None
        self.std = torch.tensor(std, device=self.device).view(shape) if std else None
        self.gen = torch.Generator(device=self.device).manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.y)

    def prepare(self, xb: torch.Tensor, train: bool) -> torch.Tensor:
        """uint8/float batch → normalised float (augmented when training)."""
        xb = xb.float() / 255.0 if xb.dtype == torch.uint8 else xb.float()
        if train and self.is_image and self.augment != "none":
            xb = random_crop(xb, self.pad, self.gen)
            if self.augment == "crop_flip":
                xb = random_flip(xb, self.gen)
        elif train and self.is_signal and self.augment == "crop":
            xb = random_shift(xb, self.pad, self.gen)
        if self.mean is not None:
            xb = (xb - self.mean) / self.std
        if self.channels_last and self.is_image:
            xb = xb.contiguous(memory_format=torch.channels_last)
        return xb

    def batches(self, order: torch.Tensor, batch_size: int, train: bool = True,
                drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield augmented, normalised batches following `order` (an index tensor on the device)."""
        order = order.to(self.device)
        n = len(order)
        stop = n - n % batch_size if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            yield self.prepare(self.x[idx], train), self.y[idx]

    def eval_batches(self, batch_size: int = 1024):
        """Un-augmented batches in storage order (for evaluation and feature extraction)."""
        return self.batches(torch.arange(len(self.y), device=self.device), batch_size, train=False)
