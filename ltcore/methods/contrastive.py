"""Representation learning for the tail: supervised contrastive terms trained beside (or instead
of) the classifier loss, each on a projection head beside the classifier and on augmented views
made on the device (views.py). The `contrast` slot.

- BCL, Zhu et al. CVPR'22 "Balanced Contrastive Learning for Long-Tailed Visual Recognition":
  class-averaging and class-complement (Eq. 6-7), logit-compensated CE (Eq. 8) on a cosine
  classifier; authors' code github.com/FlamieZhu/Balanced-Contrastive-Learning.
- KCL, Kang et al. ICLR'21 "Exploring Balanced Feature Spaces for Representation Learning":
  k positives per anchor (Eq. 3) from a MoCo queue; authors' code github.com/bingykang/BalFeat.
- PaCo, Cui et al. ICCV'21 "Parametric Contrastive Learning": learnable class centres (the
  classifier) as extra positives/negatives with the MoCo queue (Eq. 5-6); authors' code
  github.com/dvlab-research/Parametric-Contrastive-Learning (`PaCo/LT`).

The losses are pure functions (tensors in, loss out) so tests/fidelity can compare them with the
authors' functions on identical inputs; the slot objects own the heads, queues and key encoders.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .registries import BALANCING_HEADS, CONTRASTIVE, Needs, integer, number
from .views import BCL_SIM, SIM, SLAUG, ViewRecipe, augment_view, two_views


# --- pure losses ---------------------------------------------------------------------------
def bcl_loss(centers: torch.Tensor, features: torch.Tensor, targets: torch.Tensor,
             temperature: float) -> torch.Tensor:
    """Balanced contrastive loss (Zhu et al. CVPR'22 Eq. 6-7; authors' `loss/contrastive.py`
    `BalSCL.forward`).

    `features` (B, 2, D): two L2-normalised views per sample; `centers` (K, D): the L2-normalised
    class prototypes (class-complement: every class is in every batch). Each of the 2B anchors
    contrasts against the other views and the K prototypes; a negative's exponential is divided by
    the number of batch members (views + prototype) of its class (class-averaging; for the
    anchor's own class, not counting the anchor). The mean over the 2B anchors of minus the mean
    log-probability of their positives (same class, not itself; its prototype included).
    """
    b, k = targets.shape[0], centers.shape[0]
    labels = torch.cat([targets, targets, torch.arange(k, device=targets.device)])
    feats = torch.cat([features[:, 0], features[:, 1], centers]).float()
    per_class = torch.bincount(labels, minlength=k).float()
    logits = feats[:2 * b] @ feats.t() / temperature
    logits = logits - logits.max(1, keepdim=True).values.detach()
    not_self = torch.ones_like(logits)
    not_self[torch.arange(2 * b), torch.arange(2 * b)] = 0
    positive = (labels[:2 * b, None] == labels[None, :]).float() * not_self
    members = per_class[labels][None, :] - positive          # class-averaging denominators
    denom = (logits.exp() * not_self / members).sum(1, keepdim=True)
    log_prob = logits - denom.log()
    return -((positive * log_prob).sum(1) / positive.sum(1)).mean()


def kcl_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, queue_labels: torch.Tensor,
               labels: torch.Tensor, positives: int | None, temperature: float):
    """KCL logits and soft targets (Kang et al. ICLR'21 Eq. 3; authors' `moco/kcl_builder.py`
    `KCL.forward` L154-190). q, k (B, D) normalised query/key views; `queue` (Q, D) earlier keys
    with their labels (−1 = empty slot). Logit 0 is the key of the anchor's own image, then one
    per queue entry, all divided by τ. The target spreads 1 uniformly over the own key and the
    first `positives` queue entries of the anchor's class (None: all of them)."""
    l_pos = (q * k).sum(1, keepdim=True)
    l_neg = q @ queue.t()
    same = (queue_labels[None, :] == labels[:, None]).float()
    if positives is not None:
        top = same.topk(positives, 1, True, True).indices
        same = same * torch.zeros_like(same).scatter_(1, top, 1.0)
    soft = torch.cat([torch.ones_like(l_pos), same], 1)
    return torch.cat([l_pos, l_neg], 1) / temperature, soft / soft.sum(1, keepdim=True)


def soft_cross_entropy(logits: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """Σ_i Σ_j −t_ij log softmax(z_i)_j / B (authors' `util.py` `SoftCrossEntropyLoss`)."""
    return (-F.log_softmax(logits.float(), 1) * soft).sum() / logits.shape[0]


def paco_loss(features: torch.Tensor, labels: torch.Tensor, sup_logits: torch.Tensor,
              log_prior: torch.Tensor, alpha: float, beta: float = 1.0, gamma: float = 1.0,
              temperature: float = 0.05, base_temperature: float | None = None,
              supt: float = 1.0) -> torch.Tensor:
    """Parametric contrastive loss (Cui et al. ICCV'21 Eq. 5-6; authors' `PaCo/LT/losses.py`
    `PaCoLoss.forward`).

    `features` (2B + Q, D) = [queries; keys; queue], `labels` likewise; the B queries are the
    anchors. The class centres enter as the K logits `(sup_logits + log π)/supt` (the classifier's
    logits, logit-compensated) before the B·(B + Q) contrast logits q·f/τ; positives: the own
    class's centre with weight β and every other feature of the class with weight α; the
    denominator holds all K centre terms and γ × the contrast terms except the anchor itself.
    """
    b = sup_logits.shape[0]
    num_classes = sup_logits.shape[1]
    base_temperature = temperature if base_temperature is None else base_temperature
    feats = features.float()
    sim = feats[:b] @ feats.t() / temperature
    logits = torch.cat([(sup_logits.float() + log_prior) / supt, sim], 1)
    logits = logits - logits.max(1, keepdim=True).values.detach()
    not_self = torch.ones_like(sim)
    not_self[torch.arange(b), torch.arange(b)] = 0
    same = (labels[:b, None] == labels[None, :]).float() * not_self
    onehot = F.one_hot(labels[:b], num_classes).float()
    weights = torch.cat([onehot * beta, same * alpha], 1)
    kept = torch.cat([torch.ones_like(onehot), gamma * not_self], 1)
    log_prob = logits - (logits.exp() * kept).sum(1, keepdim=True).add(1e-12).log()
    return (-(temperature / base_temperature) * (weights * log_prob).sum(1) / weights.sum(1)).mean()


# --- building blocks -----------------------------------------------------------------------
def mlp_head(in_dim: int, out_dim: int) -> nn.Sequential:
    """Linear(d, d) → BatchNorm1d → ReLU → Linear(d, out): the projection head of BCL
    (`models/resnext.py` `BCLModel.head`) and of PaCo's MoCo v2 encoder (`moco/builder.py` L48-51)."""
    return nn.Sequential(nn.Linear(in_dim, in_dim), nn.BatchNorm1d(in_dim), nn.ReLU(inplace=True),
                         nn.Linear(in_dim, out_dim))


class MemoryQueue(nn.Module):
    """MoCo's queue of earlier keys and their labels, written round-robin (He et al. CVPR'20).

    The authors assert that the queue size is a multiple of the batch size; here a batch of any
    size is written at the next positions modulo the size (a last, smaller batch included)."""

    def __init__(self, size: int, dim: int, keys: torch.Tensor, labels: torch.Tensor):
        super().__init__()
        self.size = int(size)
        self.register_buffer("keys", keys.reshape(size, dim).clone())
        self.register_buffer("labels", labels.clone())
        self.ptr = 0

    @torch.no_grad()
    def push(self, keys: torch.Tensor, labels: torch.Tensor) -> None:
        keys, labels = keys[-self.size:], labels[-self.size:]
        idx = (self.ptr + torch.arange(len(labels), device=labels.device)) % self.size
        self.keys[idx] = keys.detach().to(self.keys.dtype)
        self.labels[idx] = labels
        self.ptr = (self.ptr + len(labels)) % self.size


class MomentumEncoder:
    """A key encoder: copies of the backbone and projection head updated as θ_k ← m θ_k + (1−m) θ_q,
    never by gradient (He et al. CVPR'20; `_momentum_update_key_encoder`). Kept outside the model,
    so checkpoints and the optimiser see only the query side.

    The authors shuffle the key batch across GPUs so BatchNorm cannot cheat; with one device there
    is nothing to shuffle across, and the keys are encoded as one batch."""

    def __init__(self, backbone: nn.Module, head: nn.Module, momentum: float):
        self.backbone = copy.deepcopy(backbone)
        self.head = copy.deepcopy(head)
        self.momentum = float(momentum)
        for p in self.parameters():
            p.requires_grad_(False)
        self.pairs = None

    def parameters(self):
        return [*self.backbone.parameters(), *self.head.parameters()]

    @torch.no_grad()
    def update(self, backbone: nn.Module, head: nn.Module) -> None:
        if self.pairs is None:
            self.pairs = list(zip(self.parameters(), [*backbone.parameters(), *head.parameters()]))
        own, query = zip(*self.pairs)
        torch._foreach_mul_(list(own), self.momentum)
        torch._foreach_add_(list(own), [q.detach() for q in query], alpha=1 - self.momentum)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        self.backbone.train()
        self.head.train()
        return F.normalize(self.head(self.backbone(x)).float(), dim=1)


class ContrastTerm(nn.Module):
    """Base of a `contrast` slot object: `attach(ctx, kept)` once before training (after the initial weights
    are loaded), `training_loss(method,
    model, x, y)` for a batch (the whole step's loss), `logits(model, x)` at evaluation."""

    replaces_loss = False
    """True when the contrastive loss is the whole loss of the main loop (no classifier loss)."""
    recipe: ViewRecipe = SIM
    """the authors' augmentation of the contrastive views (views.py)."""

    def attach(self, ctx, kept: torch.Tensor | None = None) -> None:
        """`kept`: the indices of the training samples the run trains on (None: all)."""
        batches = ctx.train_batches
        self.kept = kept
        self.flip = getattr(batches, "augment", "none") == "crop_flip"
        self.gen = ctx.gen
        self.mean, self.std = getattr(batches, "mean", None), getattr(batches, "std", None)

    def views(self, x: torch.Tensor, y: torch.Tensor):
        """Two views of the batch with this method's recipe, colour in pixel units."""
        return two_views(x, y, self.gen, self.flip, self.recipe, self.mean, self.std)


class BCL(ContrastTerm):
    """Balanced Contrastive Learning (Zhu et al. CVPR'22 §3.3-3.4, Eq. 9: L = α L_LC + β L_BCL).

    As the authors' `main.py` `train()` L299-311: the batch itself (view 0) gives the classifier
    logits for the logit-compensated CE (the preset's loss, `la` with τ = 1, `loss/logitadjust.py`),
    two further views go through the same backbone in the same forward pass, and all three views
    go through the MLP head in one call (`BCLModel.forward`, `models/resnext.py` L306: its
    BatchNorm sees 3B samples) to 1024-d normalised features, of which views 1-2 enter the loss;
    the class prototypes are another MLP head (`head_fc`) applied to the classifier's weight rows,
    normalised. Views 1-2 follow their `augmentation_sim` (`main.py` L172-180: crop 0.08-1, flip,
    ColorJitter(0.4, 0.4, 0.4, 0.1) p = 0.8, grey p = 0.2; `BCL_SIM`) on top of the run's own
    crop/flip; view 0 is the run's batch (their RandAugment on view 0 is not applied). Defaults
    are the authors' `main.py` flags: `--temp 0.07`, `--alpha 1.0`, `--beta 0.35`, `--feat_dim 1024`, with their
    cosine classifier (`NormedLinear`, s = 30). Their optimiser settings (cosine lr, weight decay
    5e-4, RandAugment on view 0) are the run's, not the preset's; the published code covers
    ImageNet-LT/iNaturalist only, so there are no CIFAR-specific flags to copy.
    """

    def __init__(self, feat_dim: int, num_classes: int, counts, device, bcl_temperature: float = 0.07,
                 bcl_weight: float = 0.35, bcl_ce_weight: float = 1.0, bcl_dim: int = 1024):
        super().__init__()
        self.temperature, self.weight, self.ce_weight = float(bcl_temperature), float(bcl_weight), \
            float(bcl_ce_weight)
        self.head = mlp_head(feat_dim, int(bcl_dim))
        self.head_fc = mlp_head(feat_dim, int(bcl_dim))
        self.to(device)

    recipe = BCL_SIM

    def training_loss(self, method, model, x, y):
        v1, v2, _ = self.views(x, y)
        b = len(y)
        h = model.features(torch.cat([x, v1, v2]))
        z = model.classifier(h[:b])
        f = F.normalize(self.head(h).float(), dim=1)
        feats = torch.stack([f[b:2 * b], f[2 * b:]], 1)
        centers = F.normalize(self.head_fc(model.classifier.weight).float(), dim=1)
        return self.ce_weight * method.loss(z, y) + self.weight * bcl_loss(centers, feats, y, self.temperature)


class KCL(ContrastTerm):
    """K-positive contrastive learning (Kang et al. ICLR'21 §4, Eq. 3), the representation stage.

    As the authors' `moco/kcl_builder.py` + `main_kcl.py`: a query encoder (backbone + a linear
    projection to 128-d: their `--mlp` is off in the README commands), a momentum key encoder
    (m = 0.999), a queue of 65536 keys with their labels (empty slots labelled −1), positives = the
    own key + the first k = 6 queue keys of the class (`--posk 6`), soft-target CE at τ = 0.07
    (`util.SoftCrossEntropyLoss`). Both views are random views of the batch as their `--slaug`
    (`helper.py` L355-361: RandomResizedCrop 0.08-1 and a flip, no colour; `SLAUG`). Before the
    first epoch the queue is filled with real labelled keys as their `init_key_queue`
    (`main_kcl.py` L193-229): up to `kcl_queue // batch` full batches of one pass over the training
    set through query and key encoder in train mode, without loss or momentum step; slots beyond
    one pass keep their random keys labelled −1. The contrastive loss is the whole main-loop loss;
    the classifier is learnt afterwards on the frozen features (the preset's second stage). Where
    this differs from the authors: the preset's
    second stage is cRT (class-balanced sampling, Kang et al. ICLR'20), while the authors' README
    long-tailed command trains the linear classifier with `main_lincls.py` (lr 30, no weight decay,
    100 epochs, steps at 60/80) without its `--balanced` flag.
    """

    replaces_loss = True
    recipe = SLAUG

    def __init__(self, feat_dim: int, num_classes: int, counts, device, kcl_k: int = 6,
                 kcl_temperature: float = 0.07, kcl_queue: int = 65536, kcl_momentum: float = 0.999,
                 kcl_dim: int = 128):
        super().__init__()
        self.k, self.temperature, self.momentum = int(kcl_k), float(kcl_temperature), float(kcl_momentum)
        self.dim, self.queue_size = int(kcl_dim), int(kcl_queue)
        self.head = nn.Linear(feat_dim, self.dim).to(device)
        self.device = device
        self.key = None
        self.queue = None

    def attach(self, ctx, kept: torch.Tensor | None = None) -> None:
        super().attach(ctx, kept)
        self.key = MomentumEncoder(ctx.model.backbone, self.head, self.momentum)
        keys = F.normalize(torch.randn(self.dim, self.queue_size, device=ctx.device, generator=ctx.gen), dim=0)
        self.queue = MemoryQueue(self.queue_size, self.dim, keys.t().contiguous(),
                                 torch.full((self.queue_size,), -1, dtype=torch.long, device=ctx.device))
        self.fill_queue(ctx)

    @torch.no_grad()
    def fill_queue(self, ctx) -> None:
        """The authors' `init_key_queue`: full batches of a shuffled pass, keys pushed with labels."""
        from ..engine.loop import epoch_batches

        batches, bs = ctx.train_batches, ctx.config.batch_size
        idx = self.kept if self.kept is not None else torch.arange(len(batches.y), device=batches.y.device)
        wanted = max(self.queue_size // bs, 1)
        order = idx[torch.randperm(len(idx), device=idx.device, generator=ctx.gen)]
        ctx.model.train()
        for i, (x, y) in enumerate(epoch_batches(batches, order[:len(order) // bs * bs], bs)):
            if i == wanted:
                break
            xq, xk, _ = self.views(x, y)
            self.head(ctx.model.features(xq))        # the query encoder's BatchNorm statistics move too
            self.queue.push(self.key.encode(xk), y)

    def training_loss(self, method, model, x, y):
        xq, xk, _ = self.views(x, y)
        q = F.normalize(self.head(model.features(xq)).float(), dim=1)
        self.key.update(model.backbone, self.head)
        k = self.key.encode(xk)
        # the queue as it was before this batch (push writes in place, and q @ queueᵀ needs it for backward)
        logits, soft = kcl_logits(q, k, self.queue.keys.clone(), self.queue.labels, y, self.k, self.temperature)
        self.queue.push(k, y)
        return soft_cross_entropy(logits, soft)


class PaCo(ContrastTerm):
    """Parametric contrastive learning (Cui et al. ICCV'21 §3.3, Eq. 5-6).

    As the authors' `PaCo/LT/moco/builder.py` `MoCo._train` and `paco_cifar.py` `train()`: the
    query is the batch itself with the run's crop/flip (their `augmentation_regular` adds
    AutoAugment's CIFAR10Policy and Cutout 16, which the lab does not apply), the key a contrastive
    view (`augmentation_sim_cifar`, `SIM`; their Gaussian blur p = 0.5 left out) through a momentum
    encoder (m = 0.999); the projection is an MLP
    head to `--moco-dim` on the pooled feature, the class centres are the linear classifier on
    that pooled feature (`self.linear`), and the loss is `PaCoLoss` over [q; k; queue]. The queue
    starts as their `normalize(randn(K, dim), dim=0)` with random labels. Defaults from the
    authors' CIFAR-LT scripts (`sh/CIFAR100_train_imb0.01.sh`): α = 0.01, β = γ = 1, τ = 0.05,
    queue 1024, 32-d; their script trains 400 epochs (`--epochs 400`, lr 0.05, wd 5e-4), which is
    the run's choice here. At evaluation the plain classifier logits are used (their `_inference`).
    """

    replaces_loss = True

    def __init__(self, feat_dim: int, num_classes: int, counts, device, paco_alpha: float = 0.01,
                 paco_beta: float = 1.0, paco_gamma: float = 1.0, paco_temperature: float = 0.05,
                 paco_queue: int = 1024, paco_momentum: float = 0.999, paco_dim: int = 32):
        super().__init__()
        self.alpha, self.beta, self.gamma = float(paco_alpha), float(paco_beta), float(paco_gamma)
        self.temperature, self.momentum = float(paco_temperature), float(paco_momentum)
        self.dim, self.queue_size, self.num_classes = int(paco_dim), int(paco_queue), num_classes
        n = torch.as_tensor(list(counts), dtype=torch.float32)
        self.register_buffer("log_prior", (n / n.sum() + 1e-9).log())
        self.head = mlp_head(feat_dim, self.dim)
        self.to(device)
        self.key = None
        self.queue = None

    def attach(self, ctx, kept: torch.Tensor | None = None) -> None:
        super().attach(ctx, kept)
        self.key = MomentumEncoder(ctx.model.backbone, self.head, self.momentum)
        keys = F.normalize(torch.randn(self.queue_size, self.dim, device=ctx.device, generator=ctx.gen), dim=0)
        labels = torch.randint(0, self.num_classes, (self.queue_size,), device=ctx.device, generator=ctx.gen)
        self.queue = MemoryQueue(self.queue_size, self.dim, keys, labels)

    def training_loss(self, method, model, x, y):
        h = model.features(x)
        z = model.classifier(h)
        q = F.normalize(self.head(h).float(), dim=1)
        self.key.update(model.backbone, self.head)
        k = self.key.encode(augment_view(x, self.gen, self.flip, self.recipe, self.mean, self.std))
        feats = torch.cat([q, k, self.queue.keys.clone()])
        labels = torch.cat([y, y, self.queue.labels.clone()])
        self.queue.push(k, y)
        return paco_loss(feats, labels, z, self.log_prior, self.alpha, self.beta, self.gamma, self.temperature)


def _temperature(default: float, who: str):
    return number(default, f"{who} temperature τ", lambda v: v > 0, "> 0")


CONTRASTIVE.add("none", lambda feat_dim, num_classes, counts, device: None, "no contrastive term",
                paper="—", params={})
UNMIXED = tuple(Needs(slot, allowed=("none",), why="trains on un-mixed views with its own loss: use mixing 'none' "
                      "and regularizer 'none'") for slot in ("mixing", "regularizer"))
"""Every contrastive term contrasts views of real images with their own labels, on its own loss."""
PROTOTYPES = Needs("classifier", allowed=BALANCING_HEADS, why="builds class prototypes from the classifier's "
                   "rows: use classifier 'linear', 'cosine' or 'normed', not {choice!r}")
CONTRASTIVE.add("bcl", BCL, "balanced contrastive loss (class-averaging, class prototypes) beside the "
                "classifier loss, on two device-made views", paper="Zhu et al. CVPR'22", needs_weight=True,
                needs=(*UNMIXED, PROTOTYPES),
                params={"bcl_temperature": _temperature(0.07, "BCL (authors' --temp)"),
                        "bcl_weight": number(0.35, "BCL: weight β of the contrastive loss (authors' --beta)",
                                             lambda v: v >= 0, "≥ 0"),
                        "bcl_ce_weight": number(1.0, "BCL: weight α of the classifier loss (authors' --alpha)",
                                                lambda v: v >= 0, "≥ 0"),
                        "bcl_dim": integer(1024, "BCL: projection-head output size (authors' --feat_dim)",
                                           lambda v: v >= 1, "≥ 1")})
CONTRASTIVE.add("kcl", KCL, "k-positive contrastive loss on a MoCo queue (the whole main-loop loss)",
                paper="Kang et al. ICLR'21", needs=UNMIXED,
                params={"kcl_k": integer(6, "KCL: positives per anchor taken from the queue (authors' --posk)",
                                         lambda v: v >= 1, "≥ 1"),
                        "kcl_temperature": _temperature(0.07, "KCL (authors' --moco-t)"),
                        "kcl_queue": integer(65536, "KCL: queue size (authors' --moco-k)", lambda v: v >= 1, "≥ 1"),
                        "kcl_momentum": number(0.999, "KCL: key-encoder momentum (authors' --moco-m)",
                                               lambda v: 0 <= v < 1, "in [0, 1)"),
                        "kcl_dim": integer(128, "KCL: projection size (authors' --moco-dim)", lambda v: v >= 1,
                                           "≥ 1")})
CONTRASTIVE.add("paco", PaCo, "parametric contrastive loss: classifier centres + MoCo queue (the whole "
                "main-loop loss)", paper="Cui et al. ICCV'21",
                needs=(*UNMIXED, *(Needs(slot, allowed=(name,), why="is the whole loss (its class centres are a "
                                         "linear classifier's logit-compensated logits): use loss 'ce' and "
                                         "classifier 'linear'")
                                   for slot, name in (("loss", "ce"), ("classifier", "linear")))),
                params={"paco_alpha": number(0.01, "PaCo: weight α of sample positives (authors' --alpha)",
                                             lambda v: v >= 0, "≥ 0"),
                        "paco_beta": number(1.0, "PaCo: weight β of the class-centre positive (authors' --beta)",
                                            lambda v: v >= 0, "≥ 0"),
                        "paco_gamma": number(1.0, "PaCo: weight γ of the sample terms in the denominator "
                                             "(authors' --gamma)", lambda v: v >= 0, "≥ 0"),
                        "paco_temperature": _temperature(0.05, "PaCo (authors' --moco-t)"),
                        "paco_queue": integer(1024, "PaCo: queue size (authors' --moco-k)", lambda v: v >= 1, "≥ 1"),
                        "paco_momentum": number(0.999, "PaCo: key-encoder momentum (authors' --moco-m)",
                                                lambda v: 0 <= v < 1, "in [0, 1)"),
                        "paco_dim": integer(32, "PaCo: projection size (authors' --moco-dim)", lambda v: v >= 1,
                                            "≥ 1")})
