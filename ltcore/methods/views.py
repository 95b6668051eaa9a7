"""Augmented views for contrastive and self-supervised learning, made on the device as batched
tensor ops (no per-sample Python), from a batch that the data loader already prepared.

A `ViewRecipe` says what one view does; each method names the recipe of its authors:
- `SIM` (MoCo v2 / SimCLR, e.g. dvlab-research/Parametric-Contrastive-Learning
  `PaCo/LT/paco_cifar.py` L322-332 `augmentation_sim_cifar`): `RandomResizedCrop(scale=(0.2, 1))`,
  flip, `ColorJitter(0.4, 0.4, 0.4, 0.1)` with p = 0.8, `RandomGrayscale(p=0.2)`.
- `BCL_SIM` (FlamieZhu/Balanced-Contrastive-Learning `main.py` L172-180 `augmentation_sim`): the same
  with torchvision's default crop scale (0.08, 1).
- `SLAUG` (bingykang/BalFeat `helper.py` L355-361, the `--slaug` branch of `get_transforms`):
  `RandomResizedCrop` (0.08, 1) and a flip, no colour.

The crop is one batched `affine_grid`/`grid_sample`. Colour follows torchvision's `ColorJitter` in
pixel units (brightness multiplies, contrast and saturation blend with the grey mean / grey image,
hue rotates in HSV; values clamped to [0, 1] after each) when the loader's mean/std are given, in
that fixed order (torchvision shuffles the order per image). Gaussian blur is left out (the images
here are at most 32×32).

Vectors and 1-D signals (MNIST-1D, tabular) have no such recipe; they get a random translation
(signals of ≥ 8 samples, edge-padded), a random gain and Gaussian noise.

A view keeps the sample's position in the batch, so the labels of the batch stay the labels of
every view (`two_views` returns them unchanged).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ViewRecipe:
    """One image view: crop area fraction, ColorJitter strengths (brightness, contrast, saturation,
    hue) applied with probability `jitter_p`, grey-scale with probability `grey_p`."""

    crop_scale: tuple[float, float] = (0.2, 1.0)
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grey_p: float = 0.2


SIM = ViewRecipe()
BCL_SIM = ViewRecipe(crop_scale=(0.08, 1.0))
SLAUG = ViewRecipe(crop_scale=(0.08, 1.0), jitter=(0.0, 0.0, 0.0, 0.0), jitter_p=0.0, grey_p=0.0)
RATIO = (3 / 4, 4 / 3)
"""aspect-ratio range of the crop (torchvision's RandomResizedCrop default)."""
GREY = (0.299, 0.587, 0.114)
"""torchvision's `rgb_to_grayscale` weights."""


def _uniform(n: int, low: float, high: float, device, gen) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device, generator=gen)


def resized_crop(x: torch.Tensor, scale: tuple[float, float], flip: bool, gen) -> torch.Tensor:
    """A random resized crop (area fraction in `scale`, aspect ratio in RATIO) of each image, resized
    back to the image size, optionally flipped horizontally with p = ½."""
    b, dev = x.shape[0], x.device
    area = _uniform(b, *scale, dev, gen)
    ratio = _uniform(b, math.log(RATIO[0]), math.log(RATIO[1]), dev, gen).exp()
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
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def grey(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance of RGB images (the channel mean for other channel counts)."""
    if x.shape[1] != 3:
        return x.mean(1, keepdim=True)
    w = torch.tensor(GREY, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def shift_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] with the HSV hue rotated by `shift` (B,) turns (torchvision `adjust_hue`)."""
    r, g, b = x.unbind(1)
    top, _ = x.max(1)
    bottom, _ = x.min(1)
    span = top - bottom
    safe = torch.where(span > 0, span, torch.ones_like(span))
    h = torch.where(top == r, ((g - b) / safe) % 6, torch.where(top == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = torch.where(span > 0, h / 6, torch.zeros_like(h))
    s = torch.where(top > 0, span / torch.where(top > 0, top, torch.ones_like(top)), torch.zeros_like(top))
    h = (h + shift[:, None, None]) % 1.0
    k = lambda n: (n + h * 6) % 6  # noqa: E731
    channel = lambda n: top - top * s * (torch.minimum(k(n), 4 - k(n)).clamp(0, 1))  # noqa: E731
    return torch.stack([channel(5), channel(3), channel(1)], 1)


def colour(x: torch.Tensor, recipe: ViewRecipe, gen, pixel: bool) -> torch.Tensor:
    """ColorJitter (with probability jitter_p per image) then RandomGrayscale; `pixel`: x is in
    [0, 1] and clamped after each step as torchvision does."""
    b, c, dev = x.shape[0], x.shape[1], x.device
    clamp = (lambda t: t.clamp(0, 1)) if pixel else (lambda t: t)  # noqa: E731
    on = (torch.rand(b, device=dev, generator=gen) < recipe.jitter_p).float()
    bright, contrast, saturation, hue = recipe.jitter

    def factor(strength: float) -> torch.Tensor:
        f = _uniform(b, max(0.0, 1 - strength), 1 + strength, dev, gen)
        return (1 + on * (f - 1))[:, None, None, None]

    if bright:
        x = clamp(x * factor(bright))
    if contrast:
        mean = grey(x).mean(dim=(1, 2, 3), keepdim=True)
        f = factor(contrast)
        x = clamp(f * x + (1 - f) * mean)
    if saturation and c == 3:
        f = factor(saturation)
        x = clamp(f * x + (1 - f) * grey(x))
    if hue and c == 3 and pixel:
        x = shift_hue(x, on * _uniform(b, -hue, hue, dev, gen))
    if recipe.grey_p and c == 3:
        g = (torch.rand(b, device=dev, generator=gen) < recipe.grey_p)[:, None, None, None]
        x = torch.where(g, grey(x).expand_as(x), x)
    return x


def image_view(x: torch.Tensor, gen: torch.Generator | None = None, flip: bool = True,
               recipe: ViewRecipe = SIM, mean: torch.Tensor | None = None,
               std: torch.Tensor | None = None) -> torch.Tensor:
    """One view of a (B, C, H, W) float batch normalised with (mean, std); without them the colour
    steps act on the normalised values (no clamping, no hue)."""
    xf = resized_crop(x.float(), recipe.crop_scale, flip, gen)
    pixel = mean is not None and std is not None
    if pixel:
        xf = xf * std + mean
    if recipe.jitter_p or recipe.grey_p:
        xf = colour(xf, recipe, gen, pixel)
    if pixel:
        xf = (xf - mean) / std
    out = xf.to(x.dtype)
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


def augment_view(x: torch.Tensor, gen: torch.Generator | None = None, flip: bool = True,
                 recipe: ViewRecipe = SIM, mean=None, std=None) -> torch.Tensor:
    """One random view of a batch: `image_view` for (B, C, H, W), `signal_view` otherwise."""
    return image_view(x, gen, flip, recipe, mean, std) if x.dim() == 4 else signal_view(x, gen)


def two_views(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator | None = None,
              flip: bool = True, recipe: ViewRecipe = SIM, mean=None,
              std=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(view 1, view 2, labels): two independent random views of every sample, in the batch's
    order, and the batch's labels unchanged (view i of sample j is still labelled y_j)."""
    return augment_view(x, gen, flip, recipe, mean, std), augment_view(x, gen, flip, recipe, mean, std), y
