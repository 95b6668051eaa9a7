"""Classifier heads h → z. Every head with class vectors exposes them as a K×d `weight`, so the
geometry metrics can read them."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .registries import CLASSIFIERS, number


class NormedLinear(nn.Module):
    """Cao et al. NeurIPS'19 (kaidic/LDAM-DRW `models/resnet_cifar.py` `NormedLinear`):
    z_k = s·cos(h, w_k) (s = 1 for LDAM, which scales in its loss).

    The authors draw a (d×K) uniform(−1, 1) matrix and renormalise each class column to unit norm
    (`renorm_(2, 1, 1e-5).mul_(1e5)`); the rows here are that matrix transposed, drawn in the same
    order, so a seeded init equals theirs. With `learn_scale` s is a parameter (Gidaris & Komodakis
    CVPR'18 learn the scale of their cosine classifier).
    """

    def __init__(self, feat_dim: int, num_classes: int, scale: float = 1.0, learn_scale: bool = False):
        super().__init__()
        w = torch.empty(feat_dim, num_classes).uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)
        self.weight = nn.Parameter(w.t().contiguous())
        if learn_scale:
            self.scale = nn.Parameter(torch.tensor(float(scale)))
        else:
            self.scale = float(scale)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.scale * (F.normalize(h, dim=1) @ F.normalize(self.weight, dim=1).t())


class ETFClassifier(nn.Module):
    """Yang et al. NeurIPS'22: fixed simplex ETF M = √(K/(K−1)) P (I − 11ᵀ/K), P (d×K) with
    orthonormal columns, never trained; features pass BatchNorm1d and L2 normalisation, z = Mᵀĥ.

    When d < K a learned linear map to K dimensions comes first (an ETF needs d ≥ K − 1). The
    authors instead widen the backbone: for CIFAR-100 their ResNet-32 has 32/64/128 channels and
    128-d features (NeuralCollapseApplications/ImbalancedLearning `models/resnet_cifar.py`
    `resnet32_fe_c100` = `ResNet_fe(BasicBlock, [5, 5, 5], 32)`, config `Res_cifar100_*_ETF_DR.yaml`).
    The lab keeps the run's backbone (the same model for every preset of a comparison), so on
    CIFAR-100 with the 64-d ResNet-32 this preset trains a 64→100 projection the authors do not have.
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
    """Kang et al. ICLR'20 NCM with the authors' default `cl2n` features and `l2` distance
    (facebookresearch/classifier-balancing `models/KNNClassifier.py`, centroids from
    `run_networks.py` `get_knncentroids`): subtract the mean training feature, L2-normalise, and
    score each class by minus the squared Euclidean distance to its centroid, the mean of the
    centred, normalised training features of the class (not re-normalised)."""

    def __init__(self, feat_mean: torch.Tensor, centroids: torch.Tensor):
        super().__init__()
        self.register_buffer("feat_mean", feat_mean.float())
        self.register_buffer("weight", centroids.float())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        x = h.float() - self.feat_mean
        x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return -((x * x).sum(1, keepdim=True) + (self.weight * self.weight).sum(1)[None] - 2 * x @ self.weight.t())


def ncm_centroids(features: torch.Tensor, labels: torch.Tensor, num_classes: int):
    """(mean training feature, K×d `cl2n` centroids) as in the authors' `get_knncentroids`: centre by
    the mean feature, L2-normalise, average per class (zeros for an absent class)."""
    h = features.float()
    mean = h.mean(0)
    x = h - mean
    x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
    sums = torch.zeros(num_classes, x.shape[1], device=x.device).index_add_(0, labels, x)
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1)
    return mean, sums / counts[:, None]


def tau_normalize(weight: torch.Tensor, tau: float) -> torch.Tensor:
    """Kang et al. ICLR'20 Eq. 3: w̃_k = w_k / ‖w_k‖^τ (τ = 0 leaves W unchanged)."""
    return weight / weight.norm(dim=1, keepdim=True).clamp(min=1e-12).pow(tau)


COS_SCALE = number(16.0, "cosine classifier scale s", lambda v: v > 0, "> 0")

CLASSIFIERS.add("linear", lambda feat_dim, num_classes: nn.Linear(feat_dim, num_classes),
                "linear layer z = Wh + b", paper="—", params={})
CLASSIFIERS.add("cosine", lambda feat_dim, num_classes, cos_scale=16.0: NormedLinear(
    feat_dim, num_classes, cos_scale), "cosine classifier z_k = s·cos(h, w_k), fixed s",
    paper="Gidaris & Komodakis CVPR'18; Kang et al. ICLR'20", params={"cos_scale": COS_SCALE})
CLASSIFIERS.add("cosine_learned", lambda feat_dim, num_classes, cos_scale=10.0: NormedLinear(
    feat_dim, num_classes, cos_scale, learn_scale=True), "cosine classifier whose scale s is learned "
    "(starts at cos_scale)", paper="Gidaris & Komodakis CVPR'18",
    params={"cos_scale": COS_SCALE.with_default(10.0)})
CLASSIFIERS.add("normed", NormedLinear, "normalised linear z_k = cos(h, w_k); pair with a loss that "
                "scales (LDAM)", paper="Cao et al. NeurIPS'19", params={})
CLASSIFIERS.add("etf", ETFClassifier, "fixed simplex-ETF classifier on BN + L2-normalised features",
                paper="Yang et al. NeurIPS'22", params={})
