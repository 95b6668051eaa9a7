"""Losses for long-tailed learning: `forward(logits, targets)` gives the mean loss.

Class weights w enter as the weighted mean Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i} (Cao et al. 2019,
Algorithm 1; PyTorch's `weight=`); with no weights it is the plain mean. Weight vectors are
normalised to Σ_k w_k = K (Cui et al. 2019, §4). Empty classes count as one image wherever a count
is divided by or logged.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .registries import LOSSES, Needs, number, reject_unknown


def as_counts(counts) -> torch.Tensor:
    """n_k as a float tensor, empty classes counted as 1."""
    return torch.as_tensor(list(counts), dtype=torch.float32).clamp(min=1)


def log_prior(counts) -> torch.Tensor:
    """log π_k with π_k = n_k / Σ_j n_j."""
    n = as_counts(counts)
    return (n / n.sum()).log()


def inverse_frequency_weights(counts) -> torch.Tensor:
    """w_k ∝ 1/n_k, normalised to Σ w_k = K."""
    w = 1.0 / as_counts(counts)
    return w * len(w) / w.sum()


def class_balanced_weights(counts, beta: float) -> torch.Tensor:
    """Cui et al. CVPR'19 Eq. 3: w_k = (1−β)/(1−β^{n_k}) (inverse effective number), Σ w_k = K."""
    n = as_counts(counts).double()
    w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return (w * len(w) / w.sum()).float()


def ldam_margins(counts, max_margin: float) -> torch.Tensor:
    """Cao et al. NeurIPS'19 Eq. 13: Δ_k = C / n_k^{1/4}, C chosen so that max_k Δ_k = max_margin."""
    m = as_counts(counts).pow(-0.25)
    return m * (max_margin / m.max())


def inverse_prior(counts) -> torch.Tensor:
    """SADE's π̄ (Vanint/SADE-AgnosticLT `model/loss.py` `DiverseExpertLoss.inverse_prior`): the
    prior's values handed out in reverse rank order, π̄_i = sort(π)[K − 1 − rank_i], so the most
    frequent class gets the smallest value; tied classes are ranked by index as the authors' sort
    does, so they can receive different values, exactly as in their code."""
    n = as_counts(counts)
    prior = n / n.sum()
    values, order = torch.sort(prior, stable=True)
    rank = torch.argsort(order, stable=True)
    return values[len(prior) - 1 - rank]


class ClassLoss(nn.Module):
    """Base: subclasses give the unweighted per-sample loss ℓ_i; `weight` (K or None) re-weights."""

    def __init__(self, counts, weight: torch.Tensor | None = None):
        super().__init__()
        self.num_classes = len(counts)
        self.register_buffer("counts", as_counts(counts))
        self.register_buffer("base_weight", None if weight is None else weight.float())
        self.register_buffer("weight", self.base_weight)

    def per_sample(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        losses = self.per_sample(logits.float(), targets)
        if self.weight is None:
            return losses.mean()
        w = self.weight[targets]
        return (w * losses).sum() / w.sum()

    def mixed(self, logits: torch.Tensor, y_a: torch.Tensor, y_b: torch.Tensor,
              lam: torch.Tensor) -> torch.Tensor:
        """Mixed-label loss λ_i ℓ(z_i, a_i) + (1−λ_i) ℓ(z_i, b_i) (Zhang et al. ICLR'18), weighted
        per term when class weights are set."""
        z = logits.float()
        la, lb = self.per_sample(z, y_a), self.per_sample(z, y_b)
        if self.weight is None:
            return (lam * la + (1 - lam) * lb).mean()
        wa, wb = lam * self.weight[y_a], (1 - lam) * self.weight[y_b]
        return (wa * la + wb * lb).sum() / (wa + wb).sum()


class CrossEntropy(ClassLoss):
    """Softmax cross-entropy −log softmax(z)_y (optionally class-weighted)."""

    def per_sample(self, logits, targets):
        return F.cross_entropy(logits, targets, reduction="none")


class FocalLoss(ClassLoss):
    """Lin et al. ICCV'17 Eq. 5 (softmax form): −(1 − p_y)^γ log p_y; γ = 0 is CE."""

    def __init__(self, counts, gamma: float = 1.0, weight=None):
        super().__init__(counts, weight)
        self.gamma = float(gamma)

    def per_sample(self, logits, targets):
        logp = F.log_softmax(logits, 1).gather(1, targets[:, None]).squeeze(1)
        return -(1 - logp.exp()).clamp(min=0).pow(self.gamma) * logp


class LDAMLoss(ClassLoss):
    """Cao et al. NeurIPS'19 Eq. 13: CE on s·(z − Δ_y e_y); `logits` are cosine-classifier outputs."""

    def __init__(self, counts, max_margin: float = 0.5, scale: float = 30.0, weight=None):
        super().__init__(counts, weight)
        self.register_buffer("margins", ldam_margins(counts, max_margin))
        self.scale = float(scale)

    def per_sample(self, logits, targets):
        margin = F.one_hot(targets, self.num_classes) * self.margins[targets][:, None]
        return F.cross_entropy(self.scale * (logits - margin), targets, reduction="none")


class LogitAdjustedLoss(ClassLoss):
    """Menon et al. ICLR'21 Eq. 10: CE on z_k + τ log π_k; τ = 0 is CE, τ = 1 Balanced Softmax."""

    def __init__(self, counts, tau: float = 1.0, weight=None):
        super().__init__(counts, weight)
        self.register_buffer("offset", float(tau) * log_prior(counts))

    def per_sample(self, logits, targets):
        return F.cross_entropy(logits + self.offset, targets, reduction="none")


class BalancedSoftmax(ClassLoss):
    """Ren et al. NeurIPS'20 Eq. 4: CE on z_k + log n_k."""

    def __init__(self, counts, weight=None):
        super().__init__(counts, weight)
        self.register_buffer("offset", as_counts(counts).log())

    def per_sample(self, logits, targets):
        return F.cross_entropy(logits + self.offset, targets, reduction="none")


class DotRegression(ClassLoss):
    """Yang et al. NeurIPS'22 ("Inducing Neural Collapse in Imbalanced Learning"), Eq. 14: the
    dot-regression loss ½ (w_yᵀĥ − ‖w_y‖‖ĥ‖)²/‖ĥ‖ against the fixed ETF classifier.

    As in the authors' code (NeuralCollapseApplications/ImbalancedLearning `methods.py`
    `dot_loss`/`produce_Ew`, `train.py` with the default `GivenEw = True`), each batch re-scales the
    target class vector by E_w,y = √(γ/n_y), n_y the count of class y in the batch and
    γ = B / (classes present). With the ETF's unit class vectors and L2-normalised features
    (logits z_y = w_yᵀĥ, ‖ĥ‖ = 1) the loss of a sample is ½ · (γ/n_y) · (z_y − 1)², averaged over the
    batch. The counts come from the targets handed in, so mixup's permuted targets see the same
    batch counts as the originals (as in the authors' mixup branch).
    """

    def per_sample(self, logits, targets):
        counts = torch.bincount(targets, minlength=logits.shape[1]).to(logits.dtype)
        gamma = targets.numel() / (counts > 0).sum().clamp(min=1)
        weight = gamma / counts[targets]
        return 0.5 * weight * (logits.gather(1, targets[:, None]).squeeze(1) - 1.0).pow(2)


class SigmoidFocalLoss(ClassLoss):
    """Class-balanced *sigmoid* focal loss of Cui et al. CVPR'19 (§4, Eq. 8; code
    richardaecn/class-balanced-loss `src/cifar_main.py` `focal_loss` and `_tower_fn`):

        L = (1/B) Σ_i Σ_k w_{y_i} · m_ik · BCE(z_ik, 1[k = y_i]),
        m_ik = (1 − p^t_ik)^γ = exp(−γ·t_ik·z_ik − γ·log(1 + e^(−z_ik))),

    p = σ(z), t the one-hot target; the normaliser is the number of positives (= B) and the class
    weights w are the class-balanced (1−β)/(1−β^n) normalised to Σ w = K. They multiply the loss
    (they are not a weighted mean). The authors start the last layer's bias at −log(K − 1) (prior
    π = 1/K, `model_base.py` `_fully_connected`); `init_head` does that for a linear head. That bias
    is not weight-decayed (`_tower_fn` L346-351: "no regularization (weight decay) for last layer's
    bias"): `decay_head_bias = False` puts it in an optimiser group of its own with weight decay 0.
    """

    decay_head_bias = False

    def __init__(self, counts, beta: float = 0.9999, gamma: float = 1.0):
        super().__init__(counts, None)
        self.register_buffer("class_weight", class_balanced_weights(counts, beta))
        self.gamma = float(gamma)

    def per_sample(self, logits, targets):
        t = F.one_hot(targets, logits.shape[1]).to(logits.dtype)
        bce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        if self.gamma == 0.0:
            modulator = torch.ones_like(bce)
        else:
            modulator = torch.exp(-self.gamma * (t * logits + F.softplus(-logits)))  # softplus = log(1+e^−z)
        return self.class_weight[targets] * (modulator * bce).sum(1)

    def init_head(self, head: nn.Module) -> None:
        """Bias −log(K − 1): every sigmoid starts at p = 1/K (Cui et al.'s `_fully_connected`)."""
        bias = getattr(head, "bias", None)
        if isinstance(bias, torch.Tensor) and self.num_classes > 1:
            with torch.no_grad():
                bias.fill_(-math.log(self.num_classes - 1))


class DiverseExpertLoss(ClassLoss):
    """SADE (Zhang et al. NeurIPS'22, `DiverseExpertLoss`): logits (3, B, K) of three experts; the sum
    of CE(z¹), CE(z² + log π) and CE(z³ + log π − τ log π̄)."""

    def __init__(self, counts, sade_tau: float = 2.0, weight=None):
        super().__init__(counts, weight)
        lp = log_prior(counts)
        self.register_buffer("offsets", torch.stack([torch.zeros_like(lp), lp,
                                                     lp - float(sade_tau) * inverse_prior(counts).log()]))

    def per_sample(self, logits, targets):
        if logits.dim() != 3 or logits.shape[0] != 3:
            raise ConfigError("loss 'sade' needs the three-expert classifier ('experts')")
        return sum(F.cross_entropy(z + off, targets, reduction="none")
                   for z, off in zip(logits, self.offsets))


BETA = number(0.9999, "class-balanced β (Cui et al.): effective number (1−β^n)/(1−β)",
              lambda v: 0 <= v < 1, "in [0, 1)")
"""β of the class-balanced weights (cb_ce, cb_focal, and the DRW schedule)."""
GAMMA = number(1.0, "focal exponent γ (Lin et al.); 0 = CE", lambda v: v >= 0, "≥ 0")
TAU = number(1.0, "logit-adjustment τ (LA loss and post-hoc)", lambda v: v >= 0, "≥ 0")
"""τ of logit adjustment (the LA loss here, the post-hoc adjustment in schedules.py)."""

LOSSES.add("ce", CrossEntropy, "softmax cross-entropy", paper="—", params={})
LOSSES.add("inv_ce", lambda counts: CrossEntropy(counts, inverse_frequency_weights(counts)),
           "cross-entropy weighted by inverse class frequency (w ∝ 1/n_k)",
           paper="classic cost-sensitive learning; Cui et al. CVPR'19 with β → 1", params={})
LOSSES.add("cb_ce", lambda counts, beta=0.9999: CrossEntropy(counts, class_balanced_weights(counts, beta)),
           "class-balanced cross-entropy, w ∝ (1−β)/(1−β^n)", paper="Cui et al. CVPR'19",
           params={"beta": BETA})
LOSSES.add("focal", FocalLoss, "focal loss −(1−p)^γ log p", paper="Lin et al. ICCV'17",
           params={"gamma": GAMMA})
LOSSES.add("cb_focal", SigmoidFocalLoss, "class-balanced sigmoid focal loss: Σ over classes of "
           "w_y (1−p_t)^γ BCE, divided by the batch size", paper="Cui et al. CVPR'19",
           params={"beta": BETA, "gamma": GAMMA})
LOSSES.add("ldam", LDAMLoss, "label-distribution-aware margin loss on cosine logits, Δ ∝ n^-1/4",
           paper="Cao et al. NeurIPS'19", scales_logits=True,
           needs=(Needs("classifier", refused=("cosine",),
                        why="applies its own scale s to cosine logits: use classifier 'normed'"),),
           params={"max_margin": number(0.5, "LDAM largest margin (of the rarest class)", lambda v: v > 0, "> 0"),
                   "scale": number(30.0, "LDAM logit scale s", lambda v: v > 0, "> 0")})
LOSSES.add("la", LogitAdjustedLoss, "logit-adjusted loss: CE on z + τ log π",
           paper="Menon et al. ICLR'21", params={"tau": TAU})
LOSSES.add("balanced_softmax", BalancedSoftmax, "balanced softmax: CE on z + log n",
           paper="Ren et al. NeurIPS'20", params={})
LOSSES.add("dot_regression", DotRegression, "dot-regression loss for the fixed ETF classifier",
           paper="Yang et al. NeurIPS'22", params={}, classifier="etf")
LOSSES.add("sade", DiverseExpertLoss, "SADE diverse-expert loss: plain, balanced and inverse-prior experts",
           paper="Zhang et al. NeurIPS'22", classifier="experts",
           params={"sade_tau": number(2.0, "SADE inverse-prior expert τ", lambda v: v >= 0, "≥ 0")})


def build_loss(name: str, class_counts, **params) -> ClassLoss:
    """A registered loss with its defaults overridden by `params`; unknown parameters are an error."""
    entry = LOSSES.get(name)
    defaults = entry.meta.get("params", {})
    reject_unknown(f"loss {name!r}", params, defaults)
    return entry.obj(list(class_counts), **{**defaults, **params})
