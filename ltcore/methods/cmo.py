"""CMO, context-rich minority oversampling (Park et al. CVPR'22, "The Majority Can Help the Minority:
Context-rich Minority Oversampling for Long-Tailed Classification", §3).

A minority (foreground) image is pasted into a majority (background) image by CutMix:
x̃ = M ⊙ x_b + (1 − M) ⊙ x_f, ỹ = λ y_b + (1 − λ) y_f, with λ the background's share of the pixels.
Backgrounds are the usual instance-balanced batch; foregrounds come from a second sampler that
weights each sample by 1/n_k^α (the authors' `get_weighted_sampler` in
imbalance_data/imbalance_cifar.py; α = 1 makes it class-balanced).

As in the authors' `cifar_train.py` (github.com/naver-ai/cmo, `train()` and `rand_bbox()`): applied
to a whole batch with probability `cmo_prob` (their --mixup_prob 0.5), λ ~ Beta(β, β) with β = 1
(--beta), the box side √(1 − λ) of each image side around a uniform centre, clipped at the borders,
and only in epochs e (0-based) with cmo_start < e < epochs − cmo_end (--start_data_aug 3,
--end_data_aug 3). The minority batch has the background batch's size and the same augmentation.
"""
from __future__ import annotations

import numpy as np
import torch

from .registries import AUGMENTATIONS, integer, number
from .samplers import class_probabilities, draw_by_class


def cutmix_box(height: int, width: int, lam: float, cy: int, cx: int) -> tuple[int, int, int, int]:
    """(r1, c1, r2, c2): rows [r1, r2) × columns [c1, c2) of a box with sides int(side·√(1 − λ))
    centred at (cy, cx), clipped to the image (the authors' rand_bbox, rows = their "W" = size[2])."""
    cut = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * cut), int(width * cut)
    r1, r2 = np.clip(cy - cut_h // 2, 0, height), np.clip(cy + cut_h // 2, 0, height)
    c1, c2 = np.clip(cx - cut_w // 2, 0, width), np.clip(cx + cut_w // 2, 0, width)
    return int(r1), int(c1), int(r2), int(c2)


def paste_box(background: torch.Tensor, foreground: torch.Tensor,
              box: tuple[int, int, int, int]) -> tuple[torch.Tensor, float]:
    """The background batch with the box taken from the foreground batch, and λ = the background's
    share of the pixels (1 − box area / image area), the weight of the background label."""
    r1, c1, r2, c2 = box
    out = background.clone()
    out[:, :, r1:r2, c1:c2] = foreground[:, :, r1:r2, c1:c2]
    height, width = background.shape[-2:]
    return out, 1.0 - (r2 - r1) * (c2 - c1) / (height * width)


class CMO:
    """The mixing slot's CMO: pastes minority patches into majority images (see the module doc)."""

    def __init__(self, counts, cmo_prob: float = 0.5, cmo_beta: float = 1.0, cmo_weight_alpha: float = 1.0,
                 cmo_start: int = 3, cmo_end: int = 3):
        self.prob, self.beta, self.weight_alpha = float(cmo_prob), float(cmo_beta), float(cmo_weight_alpha)
        self.start, self.end = int(cmo_start), int(cmo_end)
        self.epochs = None
        self.active = False

    def prepare(self, ctx, kept: torch.Tensor) -> None:
        """Remember the training data and build the minority sampler over the training indices."""
        self.data, self.kept, self.epochs = ctx.train_batches, kept, ctx.config.epochs
        self.labels = self.data.y[kept]
        counts = torch.bincount(self.labels, minlength=int(self.data.y.max()) + 1)
        # sample weight n_k^−α ⇔ class probability ∝ n_k^(1−α), uniform inside the class
        self.class_probs = class_probabilities(counts, 1.0 - self.weight_alpha)

    def on_epoch_start(self, epoch: int) -> None:
        self.active = self.start < epoch < self.epochs - self.end

    def minority_batch(self, size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """`size` training images drawn with the minority (class-weighted) sampler, augmented."""
        idx = self.kept[draw_by_class(self.labels, self.class_probs, size, gen)]
        return self.data.prepare(self.data.x[idx], train=True), self.data.y[idx]

    def __call__(self, x, y, gen: torch.Generator, rng: np.random.Generator):
        if not self.active or rng.random() >= self.prob:
            return None
        lam = float(rng.beta(self.beta, self.beta))
        height, width = x.shape[-2:]
        box = cutmix_box(height, width, lam, int(rng.integers(height)), int(rng.integers(width)))
        x_f, y_f = self.minority_batch(len(y), gen)
        mixed, lam = paste_box(x, x_f.to(x.dtype), box)
        return mixed, y, y_f, torch.full(y.shape, lam, device=y.device)


AUGMENTATIONS.add(
    "cmo", CMO, "CMO: a minority image (class-balanced draw) cut into a majority image, label mixed by area",
    paper="Park et al. CVPR'22", needs_images=True, params={
        "cmo_prob": number(0.5, "CMO: probability that a batch is mixed (authors' --mixup_prob)",
                           lambda v: 0 <= v <= 1, "in [0, 1]"),
        "cmo_beta": number(1.0, "CMO: CutMix λ ~ Beta(β, β), box side √(1 − λ) (authors' --beta)",
                           lambda v: v > 0, "> 0"),
        "cmo_weight_alpha": number(1.0, "CMO: minority sampler weight 1/n_k^α (1 = class-balanced; "
                                   "authors' --weighted_alpha)", lambda v: v >= 0, "≥ 0"),
        "cmo_start": integer(3, "CMO on in epochs e (0-based) with cmo_start < e < epochs − cmo_end "
                             "(authors' --start_data_aug); −1 = from the first epoch", lambda v: v >= -1, "≥ −1"),
        "cmo_end": integer(3, "CMO off in the epochs e ≥ epochs − cmo_end (authors' --end_data_aug)",
                           lambda v: v >= 0, "≥ 0"),
    })
