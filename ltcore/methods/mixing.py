"""Information augmentation by mixing pairs of images: mixup and Remix.

A mixer returns (x̃, y_a, y_b, λ_y): the loss is λ_y ℓ(z, y_a) + (1 − λ_y) ℓ(z, y_b) per sample.
One λ ~ Beta(α, α) per batch and a random pairing, as in Zhang et al.'s reference code.
"""
from __future__ import annotations

import numpy as np
import torch

from .losses import as_counts
from .registries import AUGMENTATIONS, number


def mix_inputs(x: torch.Tensor, lam: float, perm: torch.Tensor) -> torch.Tensor:
    """x̃_i = λ x_i + (1 − λ) x_perm(i)."""
    return lam * x + (1 - lam) * x[perm]


def remix_label_weights(n_a: torch.Tensor, n_b: torch.Tensor, lam: float, kappa: float,
                        tau: float) -> torch.Tensor:
    """Chou et al. ECCVW'20 Eq. 4: λ_y = 0 if n_a/n_b ≥ κ and λ < τ; 1 if n_a/n_b ≤ 1/κ and
    1 − λ < τ; λ otherwise (the label goes to the minority class of the pair)."""
    ratio = n_a / n_b
    out = torch.full_like(ratio, float(lam))
    out = torch.where((ratio >= kappa) & (lam < tau), torch.zeros_like(out), out)
    return torch.where((ratio <= 1 / kappa) & (1 - lam < tau), torch.ones_like(out), out)


class Mixup:
    """Zhang et al. ICLR'18: x̃ = λx_i + (1−λ)x_j, ỹ = λy_i + (1−λ)y_j, λ ~ Beta(α, α)."""

    def __init__(self, counts, alpha: float = 1.0):
        self.alpha = float(alpha)
        self.counts = as_counts(counts)

    def label_weights(self, y_a, y_b, lam):
        return torch.full(y_a.shape, float(lam), device=y_a.device)

    def __call__(self, x, y, gen: torch.Generator, rng: np.random.Generator):
        lam = float(rng.beta(self.alpha, self.alpha))
        perm = torch.randperm(len(y), device=y.device, generator=gen)
        y_b = y[perm]
        return mix_inputs(x, lam, perm), y, y_b, self.label_weights(y, y_b, lam)


class Remix(Mixup):
    """Chou et al. ECCVW'20: mixup's inputs with labels pushed to the minority class (κ, τ)."""

    def __init__(self, counts, alpha: float = 1.0, kappa: float = 3.0, remix_tau: float = 0.5):
        super().__init__(counts, alpha)
        self.kappa, self.tau = float(kappa), float(remix_tau)

    def label_weights(self, y_a, y_b, lam):
        n = self.counts.to(y_a.device)
        return remix_label_weights(n[y_a], n[y_b], lam, self.kappa, self.tau)


ALPHA = number(1.0, "mixup/Remix λ ~ Beta(α, α)", lambda v: v > 0, "> 0")

AUGMENTATIONS.add("none", lambda counts: None, "no mixing", paper="—", params={})
AUGMENTATIONS.add("mixup", Mixup, "mixup: convex combinations of image pairs and their labels",
                  paper="Zhang et al. ICLR'18", params={"alpha": ALPHA})
AUGMENTATIONS.add("remix", Remix, "Remix: mixup whose label favours the minority class of the pair",
                  paper="Chou et al. ECCV Workshops'20", params={
                      "alpha": ALPHA,
                      "kappa": number(3.0, "Remix κ: count ratio above which the label goes to the minority",
                                      lambda v: v >= 1, "≥ 1"),
                      "remix_tau": number(0.5, "Remix τ: λ threshold for giving the label to the minority",
                                          lambda v: 0 <= v <= 1, "in [0, 1]")})
