"""Augmented views for contrastive and self-supervised learning, made on the device as batched
tensor ops (no per-sample Python), from a batch that the data loader already prepared.

Images get the SimCLR / MoCo-v2 recipe that the contrastive methods' authors use for their
contrastive branch (`RandomResizedCrop(scale=(0.2, 1))`, flip, `ColorJitter(0.4, 0.4, ...)` with
p = 0.8, `RandomGrayscale(p=0.2)`; e.g. dvlab-research/Parametric-Contrastive-Learning
`PaCo/LT/paco_cifar.py` L322-332 `augmentation_sim_cifar`): a random resized crop through one
batched `affine_grid`/`grid_sample`, an optional horizontal flip, brightness/contrast jitter and
grey-scale. Gaussian blur is left out (the images here are at most 32×32).

Vectors and 1-D signals (MNIST-1D, tabular) have no such recipe; they get a random translation
(signals of ≥ 8 samples, edge-padded), a random gain and Gaussian noise.

A view keeps the sample's position in the batch, so the labels of the batch stay the labels of
every view (`two_views` returns them unchanged).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CROP_SCALE = (0.2, 1.0)
"""area fraction of the random resized crop (MoCo v2 / PaCo `scale=(0.2, 1.)`)."""
RATIO = (3 / 4, 4 / 3)
"""aspect-ratio range of the crop (torchvision's RandomResizedCrop default)."""
JITTER = 0.4
"""brightness and contrast jitter strength (ColorJitter(0.4, 0.4, ...))."""
JITTER_P, GREY_P = 0.8, 0.2


def _uniform(n: int, low: float, high: float, device, gen) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device, generator=gen)


def image_view(x: torch.Tensor, gen: torch.Generator | None = None, flip: bool = True) -> torch.Tensor:
    """One SimCLR-style view of a (B, C, H, W) float batch (already normalised)."""
    b, c = x.shape[:2]
    dev = x.device
    area = _uniform(b, *CROP_SCALE, dev, gen)
    log_ratio = _uniform(b, math.log(RATIO[0]), math.log(RATIO[1]), dev, gen)
    ratio = log_ratio.exp()
    sw = (area * ratio).sqrt().clamp(max=1.0)          # crop width / image width
    sh = (area / ratio).sqrt().clamp(max=1.0)
    cx = (1 - sw) * _uniform(b, -1.0, 1.0, dev, gen)   # crop centre in [-1, 1] coordinates
    cy = (1 - sh) * _uniform(b, -1.0, 1.0, dev, gen)
    sign = torch.ones(b, device=dev)
    if flip:
        sign = torch.where(torch.rand(b, device=dev, generator=gen) < 0.5, -sign, sign)
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = sw * sign, cx
    theta[:, 1, 1], theta[:, 1, 2] = sh, cy
    xf = x.float()
    grid = F.affine_grid(theta, list(xf.shape), align_corners=False)
    out = F.grid_sample(xf, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    # colour: contrast around the image mean and brightness shift, each sample with prob JITTER_P
    jit = (torch.rand(b, device=dev, generator=gen) < JITTER_P).float()
    contrast = 1 + jit * _uniform(b, -JITTER, JITTER, dev, gen)
    bright = jit * _uniform(b, -JITTER, JITTER, dev, gen)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * contrast[:, None, None, None] + mean + bright[:, None, None, None]
    if c == 3:
        grey = (torch.rand(b, device=dev, generator=gen) < GREY_P)[:, None, None, None]
        out = torch.where(grey, out.mean(1, keepdim=True).expand_as(out), out)
    out = out.to(x.dtype)
    if x.is_contiguous(memory_format=torch.channels_last):
        out = out.contiguous(memory_format=torch.channels_last)
    return out


def signal_view(x: torch.Tensor, gen: torch.Generator | None = None, noise: float = 0.1,
                gain: float = 0.2) -> torch.Tensor:
    """One view of a (B, L) or (B, C, L) batch: translation by up to L/8 (signals of ≥ 8 samples,
    edges repeated), gain in [1 − gain, 1 + gain], additive N(0, noise²)."""
    b, dev = x.shape[0], x.device
    xf = x.float()
    length = xf.shape[-1]
    if length >= 8:
        span = length // 8
        shift = torch.randint(-span, span + 1, (b,), device=dev, generator=gen)
        idx = (torch.arange(length, device=dev)[None, :] - shift[:, None]).clamp(0, length - 1)
        idx = idx.view(b, *([1] * (xf.dim() - 2)), length).expand_as(xf)
        xf = xf.gather(-1, idx)
    g = _uniform(b, 1 - gain, 1 + gain, dev, gen).view(b, *([1] * (xf.dim() - 1)))
    eps = torch.randn(xf.shape, device=dev, generator=gen)
    return (xf * g + noise * eps).to(x.dtype)


def augment_view(x: torch.Tensor, gen: torch.Generator | None = None, flip: bool = True) -> torch.Tensor:
    """One random view of a batch: `image_view` for (B, C, H, W), `signal_view` otherwise."""
    return image_view(x, gen, flip) if x.dim() == 4 else signal_view(x, gen)


def two_views(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator | None = None,
              flip: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(view 1, view 2, labels): two independent random views of every sample, in the batch's
    order, and the batch's labels unchanged (view i of sample j is still labelled y_j)."""
    return augment_view(x, gen, flip), augment_view(x, gen, flip), y
