"""Decoupled second stages (Kang et al. ICLR'20 §4): after instance-balanced representation
learning, re-balance only the classifier.

The backbone's parameters stay frozen. For the trained stages (cRT, LWS) its BatchNorm layers run as
in the authors' code (facebookresearch/classifier-balancing `run_networks.py` `train`: every network,
the frozen `feat_model` included, is put in `train()` mode; `fix: true` only turns off gradients):
they normalise with the statistics of each class-balanced batch and keep updating their running
statistics, which the evaluation then uses. τ-normalisation and NCM only read features (eval mode).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ConfigError
from ..engine.loop import epoch_batches, train_epochs
from .base import MethodContext
from .classifiers import LWSHead, NCMClassifier, ncm_centroids, tau_normalize
from .registries import BALANCING_HEADS, STAGE2, Needs, integer, number
from .samplers import ClassAwareSampler

CLASS_RUN = 4
"""images of one class drawn in a row by the second stages' sampler (the authors' `num_samples_cls`)."""
TAU_GRID = [round(0.1 * i, 1) for i in range(21)]
"""τ values swept by τ-normalisation: 0, 0.1, …, 2 (Kang et al. search τ in [0, 2])."""


@torch.no_grad()
def features_of(ctx: MethodContext, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Un-augmented backbone features and labels of the training samples `idx`."""
    ctx.model.eval()
    feats, labels = [], []
    for xb, yb in ctx.train_batches.batches(idx, 1024, train=False):
        with ctx.autocast():
            feats.append(ctx.model.features(xb).float())
        labels.append(yb)
    return torch.cat(feats), torch.cat(labels)


@torch.no_grad()
def validation_features(method, ctx: MethodContext) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Features and labels for choosing a hyper-parameter: the data set's balanced validation split
    (never training or test data); a stratified `holdout` of the training set only when the data set
    has no validation split."""
    val = ctx.val_batches
    if val is not None and len(val) > 0:
        ctx.model.eval()
        feats, labels = [], []
        for xb, yb in val.eval_batches():
            with ctx.autocast():
                feats.append(ctx.model.features(xb).float())
            labels.append(yb)
        return torch.cat(feats), torch.cat(labels), "validation"
    if method.val_idx is not None:
        h, y = features_of(ctx, method.val_idx)
        return h, y, "holdout"
    raise ConfigError("τ-normalisation picks τ on the balanced validation split, and this data set has "
                      "none: give norm_tau, or hold out part of the training set with holdout > 0")


def balanced_accuracy(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Mean recall over the classes present in `labels`."""
    hit = torch.bincount(labels[logits.argmax(1) == labels], minlength=num_classes).float()
    total = torch.bincount(labels, minlength=num_classes).float()
    present = total > 0
    return float((hit[present] / total[present]).mean()) if present.any() else float("nan")


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def head_batches(ctx: MethodContext, idx: torch.Tensor, positions: torch.Tensor, cache):
    """(features, labels) batches of the training samples idx[positions]; from `cache` (features of
    idx, computed once) when the backbone's output cannot change (no augmentation, no BatchNorm),
    else through the frozen backbone in its current mode (BatchNorm in train mode: batch statistics)."""
    bs = ctx.config.batch_size
    if cache is not None:
        h_all, y_all = cache
        for start in range(0, len(positions), bs):
            p = positions[start:start + bs]
            yield h_all[p], y_all[p]
        return
    for xb, yb in epoch_batches(ctx.train_batches, idx[positions], bs):
        with torch.no_grad(), ctx.autocast():
            h = ctx.model.features(xb).float()
        yield h, yb  # outside no_grad: the grad mode is global, the caller trains on h


def train_head(method, ctx: MethodContext, head: nn.Module, name: str, epochs: int,
               lr: float | None) -> list[float]:
    """Train `head` (installed as the model's classifier) on frozen features with the authors'
    class-aware sampler (runs of 4 images of a class, K·n_max draws an epoch: `ClassAwareSampler`)
    and the method's loss (class weights off), cosine lr; returns the loss per epoch.

    The backbone is in train mode as in the authors' code (see the module docstring)."""
    model, config = ctx.model, ctx.config
    model.classifier = head
    params = [p for p in head.parameters() if p.requires_grad]
    base_lr = lr if lr is not None else config.lr
    opt = torch.optim.SGD(params, lr=base_lr, momentum=config.momentum, weight_decay=config.weight_decay)
    loss_fn = method.loss
    loss_fn.weight = None
    idx = method.kept_indices(ctx.train_batches.y)
    batches = ctx.train_batches
    fixed = (batches.augment == "none" or not batches.is_image) and not has_batchnorm(model.backbone)
    cache = features_of(ctx, idx) if fixed else None
    labels = batches.y[idx]
    sampler = ClassAwareSampler(per_class=CLASS_RUN)
    frozen = [p for p in model.backbone.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        return train_epochs(ctx, opt, epochs, lambda h, yb, _epoch: loss_fn(head(h), yb),
                            lambda epoch: head_batches(ctx, idx, sampler.order(labels, epoch, ctx.gen), cache),
                            {"type": "stage2", "stage": name, "epochs": epochs},
                            lr=lambda epoch: base_lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs)))
    finally:
        for p in frozen:
            p.requires_grad_(True)
        model.eval()


def crt(method, ctx: MethodContext, stage2_epochs: int = 10, stage2_lr: float | None = None) -> dict:
    """cRT: re-initialise the classifier and re-train it with class-balanced sampling."""
    head = method.new_head(ctx.model.feature_dim).to(ctx.device)
    return {"stage2_loss": train_head(method, ctx, head, "crt", stage2_epochs, stage2_lr)}


def lws(method, ctx: MethodContext, stage2_epochs: int = 10, stage2_lr: float | None = None) -> dict:
    """LWS: learn one scale f_k per class on the frozen classifier, class-balanced sampling
    (Kang et al. ICLR'20 §4; classifier-balancing `models/TauNormClassifier.py`: z = (Wh + b)·f).

    A scale can turn negative: when stage 1 under-fits a tail class its own-class logits w_kᵀh + b_k
    are mostly negative on its images, and raising them means a negative f_k. The formula is the
    authors'; the classes with f_k < 0 are listed under `lws_negative` for the dashboard."""
    head = LWSHead(ctx.model.classifier, method.num_classes).to(ctx.device)
    history = train_head(method, ctx, head, "lws", stage2_epochs, stage2_lr)
    scales = [round(float(s), 5) for s in head.scales.detach()]
    return {"stage2_loss": history, "lws_scales": scales,
            "lws_negative": [k for k, s in enumerate(scales) if s < 0]}


def tau_logits(h: torch.Tensor, weight: torch.Tensor, tau: float) -> torch.Tensor:
    """Logits of the τ-normalised classifier, no bias: h·(w_k/‖w_k‖^τ) (the authors' `tau_norm.py`
    scores with `dotproduct_similarity(feat, pnorm(weights, p))`, the stage-1 bias left out)."""
    return h @ tau_normalize(weight.float(), tau).t()


@torch.no_grad()
def tau_norm(method, ctx: MethodContext, norm_tau: float | None = None) -> dict:
    """τ-normalisation w̃_k = w_k/‖w_k‖^τ without bias (Kang et al. ICLR'20 Eq. 3; classifier-
    balancing `tau_norm.py`, τ over `np.linspace(0, 2, 21)`); τ given, or the best balanced accuracy
    on the balanced validation split over that grid (ties → the smaller τ). The test set is never
    looked at."""
    old = ctx.model.classifier
    tau, out = norm_tau, {}
    if tau is None:
        h, y, source = validation_features(method, ctx)
        curve = [[t, balanced_accuracy(tau_logits(h, old.weight, t), y, method.num_classes)] for t in TAU_GRID]
        tau = max(curve, key=lambda c: (c[1], -c[0]))[0]
        out["tau_curve"] = curve
        out["tau_picked_on"] = source
    new = nn.Linear(old.in_features, old.out_features, bias=False).to(old.weight.device)
    new.weight.copy_(tau_normalize(old.weight, tau))
    ctx.model.classifier = new
    ctx.emit({"type": "stage2", "stage": "tau_norm", "tau": tau, "epoch": 1, "epochs": 1})
    return {**out, "tau": tau}


@torch.no_grad()
def ncm(method, ctx: MethodContext) -> dict:
    """NCM with the authors' default `cl2n` + squared Euclidean distance (see NCMClassifier)."""
    h, y = features_of(ctx, method.kept_indices(ctx.train_batches.y))
    ctx.model.classifier = NCMClassifier(*ncm_centroids(h, y, method.num_classes))
    ctx.emit({"type": "stage2", "stage": "ncm", "epoch": 1, "epochs": 1})
    return {}


STAGE2_PARAMS = {
    "stage2_epochs": integer(10, "epochs of the second stage (cRT, LWS)", lambda v: v >= 1, "≥ 1"),
    "stage2_lr": number(None, "second-stage learning rate; None = the run's lr", lambda v: v > 0, "> 0",
                        optional=True),
}
"""The head re-training stages' parameters (cRT, LWS)."""

STAGE2.add("none", None, "no second stage", paper="—", params={})
REBALANCES = Needs("classifier", allowed=BALANCING_HEADS, why="re-balances a linear/cosine classifier, not {choice!r}")
STAGE2.add("crt", crt, "classifier re-training: new classifier, class-balanced sampling, frozen "
           "backbone", paper="Kang et al. ICLR'20", params=STAGE2_PARAMS, needs=(REBALANCES,))
STAGE2.add("lws", lws, "learnable weight scaling: one scale per class, class-balanced sampling",
           paper="Kang et al. ICLR'20", params=STAGE2_PARAMS, needs=(REBALANCES,))
STAGE2.add("tau_norm", tau_norm, "τ-normalised classifier weights w/‖w‖^τ without bias, τ tuned on "
           "the balanced validation split", paper="Kang et al. ICLR'20",
           needs=(REBALANCES, Needs("classifier", allowed=("linear",),
                                    why="rescales the rows of a linear classifier: use classifier 'linear'")),
           params={"norm_tau": number(None, "τ-normalisation exponent: fixed τ, or None to pick it on the "
                                      "balanced validation split", lambda v: v >= 0, "≥ 0", optional=True)})
STAGE2.add("ncm", ncm, "nearest class mean of normalised features", paper="Kang et al. ICLR'20",
           params={})
