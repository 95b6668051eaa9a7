"""Feature regularisers added to the supervised loss: the neural-collapse terms of Liu et al.
AISTATS'23 ("Inducing Neural Collapse in Deep Long-tailed Learning", code Pepper-lll/NCfeature)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .registries import REGULARIZERS, Needs, integer, number


def nc1_loss(h: torch.Tensor, y: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """Liu et al. Eq. 6 (class-balanced): (1/K) Σ_k (1/n_k^batch) Σ_{i: y_i=k} ‖h_i − μ_k‖²;
    classes absent from the batch contribute 0."""
    k = means.shape[0]
    dist = (h - means[y]).pow(2).sum(1)                                  # (B,)
    per_class = torch.zeros(k, device=h.device, dtype=dist.dtype).index_add(0, y, dist)
    n = torch.bincount(y, minlength=k).clamp(min=1)
    return (per_class / n).sum() / k


def _centred_cosines(means: torch.Tensor) -> torch.Tensor:
    """Cosines between the centred, L2-normalised class means, the diagonal pushed below −1."""
    m = F.normalize(means - means.mean(0), dim=1)
    cos = m @ m.t()
    return cos - 2.0 * torch.diag(torch.diag(cos))


def nc2_loss(means: torch.Tensor) -> torch.Tensor:
    """Liu et al. AISTATS'23 NC2 loss, the authors' default (`--NC2Loss v0`, Pepper-lll/NCfeature
    `losses.py` `NC2Loss`): −mean_k arccos(max_{j≠k} cos(μ̃_k, μ̃_j)), μ̃ the centred, normalised
    means; each class's smallest angle to another class, averaged (cosines clamped to ±0.99999)."""
    nearest = _centred_cosines(means).max(dim=1).values.clamp(-0.99999, 0.99999)
    return -torch.arccos(nearest).mean()


def nc2_loss_min_angle(means: torch.Tensor) -> torch.Tensor:
    """The authors' `v1` variant (`NC2Loss_v1`) and Eq. 7 of the paper: −arccos(max_{i≠j} cos(μ̃_i,
    μ̃_j)), only the single smallest angle between any two class means."""
    return -torch.arccos(_centred_cosines(means).max().clamp(-0.99999, 0.99999))


NC2_VARIANTS = {"mean_min_angle": nc2_loss, "min_angle": nc2_loss_min_angle}
"""NC2 loss variants by name: the authors' default (v0) first."""


class NCRegularizer:
    """λ1 L_NC1 + λ2 L_NC2 with learnable class means μ (K×d) that have their own SGD (lr 0.5) and
    whose gradient is scaled by 1/λ1, as in the reference code (Liu et al. §4; Pepper-lll/NCfeature
    `engine.py` lines 58-66 and 89-97, defaults `train.py` lines 75-78, 88-91: λ1 = 0.01, λ2 = 0.1,
    α = 0.5, `--NC2Loss v0`, `--start_ft 0`).

    The terms act on the penultimate features h as they are (no normalisation), with the same
    forward pass as the supervised loss; μ is a memory of class means learnt by SGD, not a batch
    estimate, and gets no weight decay or momentum. `nc_start` (0-based epoch, default 0 as the
    authors') leaves the first epochs to the supervised loss alone: the NC terms and μ's updates
    begin at that epoch. (The authors' `--start_ft` > 0 differs: their `train()` still adds both
    terms before it, against means it keeps frozen; the default 0 is the same in both.)

    When it beats `ce` (benchmarks/nc_reg_study.py, ρ = 100): L_NC2 depends on μ alone, so the
    network feels only λ1 (the pull of h to μ) and λ2 acts through λ2/λ1, how fast μ spreads out.
    With the authors' λ1 = 0.01, λ2 = 0.1 (ratio 10) μ follows the imbalanced features: NC1 of the
    features drops 1.4–4.7× but balanced accuracy does not rise (digits, 20 epochs: −0.4 ± 2.1 points;
    MNIST-1D, 60 epochs: −1.3 ± 2.1, few-shot 15.5 → 2.2 %). A ratio of ~1000 spreads μ and carries
    the tail features apart: λ1 = 0.01, λ2 = 10 gains +3.8 ± 5.5 (digits) and +2.2 ± 1.8 (MNIST-1D);
    digits also takes a stronger pull (λ1 = 0.1, λ2 = 100: +22.8 ± 4.9), MNIST-1D does not
    (−9.6). The NC2 variant, a later `nc_start` and the authors' warm-up/weight decay change
    nothing or hurt; with 100 epochs on digits `ce` catches up (+0.6 ± 0.6). The defaults stay the
    authors': their CIFAR-10-LT runs make ~19k updates of μ (200 epochs of batch 128), digits-LT in
    20 epochs 60 and MNIST-1D-LT in 60 epochs 1,200, likely why ratio 10 is too slow here (a guess,
    not measured).
    """

    def __init__(self, feat_dim: int, num_classes: int, device, lambda1: float = 0.01,
                 lambda2: float = 0.1, means_lr: float = 0.5, seed: int = 0,
                 nc2: str = "mean_min_angle", nc_start: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.means = torch.randn(num_classes, feat_dim, generator=gen).to(device).requires_grad_()
        self.optimizer = torch.optim.SGD([self.means], lr=means_lr)
        self.lambda1, self.lambda2 = float(lambda1), float(lambda2)
        self.nc2 = NC2_VARIANTS[nc2]
        self.start = int(nc_start)
        self.active = self.start <= 0
        self.last = {}

    def on_epoch_start(self, epoch: int) -> None:
        """The NC terms join the loss from epoch `nc_start` (0-based) on."""
        self.active = epoch >= self.start

    def __call__(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return h.new_zeros((), dtype=torch.float32)
        l1, l2 = nc1_loss(h.float(), y, self.means), self.nc2(self.means)
        self.last = {"nc1": l1.detach(), "nc2": l2.detach()}
        return self.lambda1 * l1 + self.lambda2 * l2

    def step(self) -> None:
        """After the model's step: scale μ's gradient by 1/λ1, step μ's optimiser, clear it."""
        if self.means.grad is not None:
            self.means.grad.mul_(1.0 / self.lambda1)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)


NC_PARAMS = {"lambda1": number(0.01, "NC1 regulariser weight λ1 (Liu et al.)", lambda v: v > 0, "> 0"),
             "lambda2": number(0.1, "NC2 regulariser weight λ2 (Liu et al.)", lambda v: v >= 0, "≥ 0"),
             "means_lr": number(0.5, "learning rate of the NC class means' own SGD", lambda v: v > 0, "> 0"),
             "nc_start": integer(0, "epoch (0-based) from which the NC terms join the loss; before it plain "
                                 "supervised training (the authors' --start_ft, default 0)", lambda v: v >= 0, "≥ 0")}

REGULARIZERS.add("none", lambda feat_dim, num_classes, device: None, "no feature regulariser",
                 paper="—", params={})
UNMIXED = (Needs("mixing", allowed=("none",), why="needs un-mixed features: use mixing 'none'"),)
"""The NC regulariser measures class means of the batch's own features: mixing would blend them."""
REGULARIZERS.add("nc", NCRegularizer, "neural-collapse regularisers: class-balanced NC1 to learnable "
                 "means + NC2 (each class's smallest angle, averaged; the authors' default)",
                 paper="Liu et al. AISTATS'23", params=NC_PARAMS, needs=UNMIXED)
REGULARIZERS.add("nc_min_angle", lambda feat_dim, num_classes, device, lambda1=0.01, lambda2=0.1,
                 means_lr=0.5, nc_start=0: NCRegularizer(feat_dim, num_classes, device, lambda1, lambda2,
                                                         means_lr, nc2="min_angle", nc_start=nc_start),
                 "neural-collapse regularisers with NC2 on the single smallest angle between class "
                 "means (the authors' v1, the paper's Eq. 7)", paper="Liu et al. AISTATS'23",
                 params=NC_PARAMS, needs=UNMIXED)
