"""Feature regularisers added to the supervised loss: the neural-collapse terms of Liu et al.
AISTATS'23 ("Inducing Neural Collapse in Deep Long-tailed Learning", code Pepper-lll/NCfeature)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .registries import REGULARIZERS, number


def nc1_loss(h: torch.Tensor, y: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """Liu et al. Eq. 6 (class-balanced): (1/K) Σ_k (1/n_k^batch) Σ_{i: y_i=k} ‖h_i − μ_k‖²;
    classes absent from the batch contribute 0."""
    k = means.shape[0]
    dist = (h - means[y]).pow(2).sum(1)                                  # (B,)
    per_class = torch.zeros(k, device=h.device, dtype=dist.dtype).index_add(0, y, dist)
    n = torch.bincount(y, minlength=k).clamp(min=1)
    return (per_class / n).sum() / k


def nc2_loss(means: torch.Tensor) -> torch.Tensor:
    """Liu et al. Eq. 7: −arccos(max_{i≠j} cos(μ̃_i, μ̃_j)), μ̃ the centred, normalised means
    (minimising it maximises the smallest angle between class means)."""
    m = F.normalize(means - means.mean(0), dim=1)
    cos = m @ m.t()
    cos = cos - 2.0 * torch.eye(len(m), device=m.device)                # diagonal never the max
    return -torch.arccos(cos.max().clamp(-0.99999, 0.99999))


class NCRegularizer:
    """λ1 L_NC1 + λ2 L_NC2 with learnable class means μ (K×d) that have their own SGD (lr 0.5) and
    whose gradient is scaled by 1/λ1, as in the reference code (Liu et al. §4)."""

    def __init__(self, feat_dim: int, num_classes: int, device, lambda1: float = 0.01,
                 lambda2: float = 0.1, means_lr: float = 0.5, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.means = torch.randn(num_classes, feat_dim, generator=gen).to(device).requires_grad_()
        self.optimizer = torch.optim.SGD([self.means], lr=means_lr)
        self.lambda1, self.lambda2 = float(lambda1), float(lambda2)
        self.last = {}

    def __call__(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        l1, l2 = nc1_loss(h.float(), y, self.means), nc2_loss(self.means)
        self.last = {"nc1": l1.detach(), "nc2": l2.detach()}
        return self.lambda1 * l1 + self.lambda2 * l2

    def step(self) -> None:
        """After the model's step: scale μ's gradient by 1/λ1, step μ's optimiser, clear it."""
        if self.means.grad is not None:
            self.means.grad.mul_(1.0 / self.lambda1)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)


REGULARIZERS.add("none", lambda feat_dim, num_classes, device: None, "no feature regulariser",
                 paper="—", params={})
REGULARIZERS.add("nc", NCRegularizer, "neural-collapse regularisers: class-balanced NC1 to learnable "
                 "means + NC2 max-min angle", paper="Liu et al. AISTATS'23",
                 params={"lambda1": number(0.01, "NC1 regulariser weight λ1 (Liu et al.)", lambda v: v > 0, "> 0"),
                         "lambda2": number(0.1, "NC2 regulariser weight λ2 (Liu et al.)", lambda v: v >= 0, "≥ 0"),
                         "means_lr": number(0.5, "learning rate of the NC class means' own SGD",
                                            lambda v: v > 0, "> 0")})
