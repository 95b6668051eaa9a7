"""Decoupled second stages (Kang et al. ICLR'20 §4): after instance-balanced representation
learning, re-balance only the classifier. The backbone stays frozen in eval mode (its parameters and
BatchNorm statistics are untouched)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import MethodContext
from .classifiers import LWSHead, NCMClassifier, class_means, tau_normalize
from .registries import STAGE2, integer, number
from .samplers import class_probabilities, draw_by_class

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


def balanced_accuracy(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Mean recall over the classes present in `labels`."""
    hit = torch.bincount(labels[logits.argmax(1) == labels], minlength=num_classes).float()
    total = torch.bincount(labels, minlength=num_classes).float()
    present = total > 0
    return float((hit[present] / total[present]).mean()) if present.any() else float("nan")


def head_batches(ctx: MethodContext, idx: torch.Tensor, positions: torch.Tensor, cache):
    """(features, labels) batches of the training samples idx[positions]; from `cache` (features of
    idx, computed once) when the data is not augmented, else through the frozen backbone."""
    bs = ctx.config.batch_size
    if cache is not None:
        h_all, y_all = cache
        for start in range(0, len(positions), bs):
            p = positions[start:start + bs]
            yield h_all[p], y_all[p]
        return
    for xb, yb in ctx.train_batches.batches(idx[positions], bs):
        with torch.no_grad(), ctx.autocast():
            h = ctx.model.features(xb).float()
        yield h, yb  # outside no_grad: the grad mode is global, the caller trains on h


def train_head(method, ctx: MethodContext, head: nn.Module, name: str, epochs: int,
               lr: float | None) -> list[float]:
    """Train `head` (installed as the model's classifier) on frozen features with class-balanced
    sampling and the method's loss (class weights off), cosine lr; returns the loss per epoch."""
    model, config = ctx.model, ctx.config
    model.classifier = head
    params = [p for p in head.parameters() if p.requires_grad]
    base_lr = lr if lr is not None else config.lr
    opt = torch.optim.SGD(params, lr=base_lr, momentum=config.momentum, weight_decay=config.weight_decay)
    loss_fn = method.loss
    loss_fn.weight = None
    idx = method.kept_indices(ctx.train_batches.y)
    batches = ctx.train_batches
    cache = features_of(ctx, idx) if batches.augment == "none" or not batches.is_image else None
    labels = batches.y[idx]
    probs = class_probabilities(torch.bincount(labels, minlength=method.num_classes), 0.0)
    history = []
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = base_lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        model.eval()
        head.train()
        positions = draw_by_class(labels, probs, len(labels), ctx.gen)
        total, steps = torch.zeros((), device=ctx.device), 0
        for h, yb in head_batches(ctx, idx, positions, cache):
            with ctx.autocast():
                loss = loss_fn(head(h), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach().float()
            steps += 1
        history.append(float(total) / max(steps, 1))
        ctx.emit({"type": "stage2", "stage": name, "epoch": epoch + 1, "epochs": epochs,
                  "loss": history[-1]})
        if ctx.should_stop():
            break
    return history


def crt(method, ctx: MethodContext, stage2_epochs: int = 10, stage2_lr: float | None = None) -> dict:
    """cRT: re-initialise the classifier and re-train it with class-balanced sampling."""
    head = method.new_head(ctx.model.feature_dim).to(ctx.device)
    return {"stage2_loss": train_head(method, ctx, head, "crt", stage2_epochs, stage2_lr)}


def lws(method, ctx: MethodContext, stage2_epochs: int = 10, stage2_lr: float | None = None) -> dict:
    """LWS: learn one scale f_k per class on the frozen classifier, class-balanced sampling."""
    head = LWSHead(ctx.model.classifier, method.num_classes).to(ctx.device)
    history = train_head(method, ctx, head, "lws", stage2_epochs, stage2_lr)
    return {"stage2_loss": history, "lws_scales": [round(float(s), 5) for s in head.scales.detach()]}


@torch.no_grad()
def tau_norm(method, ctx: MethodContext, norm_tau: float | None = None) -> dict:
    """τ-normalisation w̃_k = w_k/‖w_k‖^τ (bias kept); τ given, or the best balanced accuracy on the
    held-out split over τ ∈ {0, 0.1, …, 2} (ties → the smaller τ)."""
    old = ctx.model.classifier
    tau, out = norm_tau, {}
    if tau is None:
        h, y = features_of(ctx, method.val_idx)
        curve = []
        for t in TAU_GRID:
            logits = h @ tau_normalize(old.weight.float(), t).t()
            if old.bias is not None:
                logits = logits + old.bias.float()
            curve.append([t, balanced_accuracy(logits, y, method.num_classes)])
        tau = max(curve, key=lambda c: (c[1], -c[0]))[0]
        out["tau_curve"] = curve
    new = nn.Linear(old.in_features, old.out_features, bias=old.bias is not None).to(old.weight.device)
    new.weight.copy_(tau_normalize(old.weight, tau))
    if old.bias is not None:
        new.bias.copy_(old.bias)
    ctx.model.classifier = new
    ctx.emit({"type": "stage2", "stage": "tau_norm", "tau": tau, "epoch": 1, "epochs": 1})
    return {**out, "tau": tau}


@torch.no_grad()
def ncm(method, ctx: MethodContext) -> dict:
    """NCM: classify by the nearest class mean of L2-normalised training features (cosine)."""
    h, y = features_of(ctx, method.kept_indices(ctx.train_batches.y))
    ctx.model.classifier = NCMClassifier(class_means(h, y, method.num_classes))
    ctx.emit({"type": "stage2", "stage": "ncm", "epoch": 1, "epochs": 1})
    return {}


STAGE2_PARAMS = {
    "stage2_epochs": integer(10, "epochs of the second stage (cRT, LWS)", lambda v: v >= 1, "≥ 1"),
    "stage2_lr": number(None, "second-stage learning rate; None = the run's lr", lambda v: v > 0, "> 0",
                        optional=True),
}
"""The head re-training stages' parameters (cRT, LWS)."""

STAGE2.add("none", None, "no second stage", paper="—", params={})
STAGE2.add("crt", crt, "classifier re-training: new classifier, class-balanced sampling, frozen "
           "backbone", paper="Kang et al. ICLR'20", params=STAGE2_PARAMS)
STAGE2.add("lws", lws, "learnable weight scaling: one scale per class, class-balanced sampling",
           paper="Kang et al. ICLR'20", params=STAGE2_PARAMS)
STAGE2.add("tau_norm", tau_norm, "τ-normalised classifier weights w/‖w‖^τ, τ tuned on a held-out "
           "split", paper="Kang et al. ICLR'20",
           params={"norm_tau": number(None, "τ-normalisation exponent: fixed τ, or None to pick it on the "
                                      "held-out split", lambda v: v >= 0, "≥ 0", optional=True)})
STAGE2.add("ncm", ncm, "nearest class mean of normalised features", paper="Kang et al. ICLR'20",
           params={})
