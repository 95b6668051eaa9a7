"""Classifier heads h → z. Every head with class vectors exposes them as a K×d `weight`, so the
geometry metrics can read them."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .registries import CLASSIFIERS, number


class NormedLinear(nn.Module):
    """Cao et al. NeurIPS'19 (`NormedLinear`): z_k = cos(h, w_k), no scale (LDAM applies s)."""

    def __init__(self, feat_dim: int, num_classes: int, scale: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, feat_dim).uniform_(-1, 1))
        self.scale = float(scale)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(h, dim=1) @ F.normalize(self.weight, dim=1).t()


class ETFClassifier(nn.Module):
    """Yang et al. NeurIPS'22: fixed simplex ETF M = √(K/(K−1)) P (I − 11ᵀ/K), P (d×K) with
    orthonormal columns, never trained; features pass BatchNorm1d and L2 normalisation, z = Mᵀĥ.

    When d < K a learned linear map to K dimensions comes first (an ETF needs d ≥ K − 1).
    """

    def __init__(self, feat_dim: int, num_classes: int, seed: int = 0):
        super().__init__()
        k = num_classes
        self.project = nn.Linear(feat_dim, k) if feat_dim < k else nn.Identity()
        d = max(feat_dim, k)
        self.bn = nn.BatchNorm1d(d)
        gen = torch.Generator().manual_seed(seed)
        p, _ = torch.linalg.qr(torch.randn(d, k, generator=gen))  # d×K, orthonormal columns
        m = math.sqrt(k / (k - 1)) * p @ (torch.eye(k) - torch.ones(k, k) / k)
        self.register_buffer("etf", m)  # d×K, a buffer: no gradient, not in the optimiser

    @property
    def weight(self) -> torch.Tensor:
        return self.etf.t()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = F.normalize(self.bn(self.project(h)).float(), dim=1)
        return h @ self.etf


class MultiExpert(nn.Module):
    """SADE-style heads on a shared backbone: `expert_logits` (E, B, K); forward = their average
    (Zhang et al. NeurIPS'22)."""

    def __init__(self, feat_dim: int, num_classes: int, experts: int = 3):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(feat_dim, num_classes) for _ in range(experts))

    def expert_logits(self, h: torch.Tensor) -> torch.Tensor:
        return torch.stack([head(h) for head in self.heads])

    def train_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.expert_logits(h)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.expert_logits(h).mean(0)


class LWSHead(nn.Module):
    """Kang et al. ICLR'20 LWS: z_k = f_k · (w_kᵀh + b_k) with the base head frozen, f learned."""

    def __init__(self, base: nn.Module, num_classes: int):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.scales = nn.Parameter(torch.ones(num_classes))

    @property
    def weight(self) -> torch.Tensor:
        return self.scales.detach()[:, None] * self.base.weight.detach()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.base(h) * self.scales


class NCMClassifier(nn.Module):
    """Kang et al. ICLR'20 NCM: z_k = cos(h, μ_k), μ_k the mean of the class's L2-normalised
    training features (nearest class mean under cosine = under Euclidean distance of unit vectors)."""

    def __init__(self, means: torch.Tensor):
        super().__init__()
        self.register_buffer("weight", F.normalize(means.float(), dim=1))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(h.float(), dim=1) @ self.weight.t()


def class_means(features: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """K×d means of the L2-normalised features of each class (zeros for an absent class)."""
    h = F.normalize(features.float(), dim=1)
    sums = torch.zeros(num_classes, h.shape[1], device=h.device).index_add_(0, labels, h)
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1)
    return sums / counts[:, None]


def tau_normalize(weight: torch.Tensor, tau: float) -> torch.Tensor:
    """Kang et al. ICLR'20 Eq. 3: w̃_k = w_k / ‖w_k‖^τ (τ = 0 leaves W unchanged)."""
    return weight / weight.norm(dim=1, keepdim=True).clamp(min=1e-12).pow(tau)


CLASSIFIERS.add("linear", lambda feat_dim, num_classes: nn.Linear(feat_dim, num_classes),
                "linear layer z = Wh + b", paper="—", params={})
CLASSIFIERS.add("cosine", lambda feat_dim, num_classes, cos_scale=16.0: NormedLinear(
    feat_dim, num_classes, cos_scale), "cosine classifier z_k = s·cos(h, w_k)",
    paper="Gidaris & Komodakis CVPR'18; Kang et al. ICLR'20",
    params={"cos_scale": number(16.0, "cosine classifier scale s", lambda v: v > 0, "> 0")})
CLASSIFIERS.add("normed", NormedLinear, "normalised linear z_k = cos(h, w_k); pair with a loss that "
                "scales (LDAM)", paper="Cao et al. NeurIPS'19", params={})
CLASSIFIERS.add("etf", ETFClassifier, "fixed simplex-ETF classifier on BN + L2-normalised features",
                paper="Yang et al. NeurIPS'22", params={})
CLASSIFIERS.add("experts", MultiExpert, "three linear expert heads on a shared backbone, averaged",
                paper="Zhang et al. NeurIPS'22 (SADE)", params={})
