"""Neural-collapse tracking during training (Papyan et al. PNAS'20 measure NC along training).

Every `config.nc_every` epochs (0 = only at the end) the NC metrics are computed on a FIXED,
stratified subsample of the training set (≈ NC_SAMPLES, seeded by config.seed) and appended to
trainer.extras["nc_history"]; at `config.snapshot_epochs` and at the end a small feature snapshot
(≤ SNAPSHOT_POINTS points, class-balanced, fewer for wide features, plus class means and classifier rows) goes to
trainer.extras["snapshots"]. One evaluation pass over ≤ 2000 samples per measurement: cheap.
"""
from __future__ import annotations

import copy
import warnings
import weakref

import torch

from .minority import minority_collapse
from .neural_collapse import SCALARS, NCInputError, NCWarning, class_means, neural_collapse

NC_SAMPLES = 2000
SNAPSHOT_POINTS = 500
SNAPSHOT_VALUES = 50_000            # fewer points for wide features: ≤ this many stored floats
DECIMALS = 5
_SUBSETS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def rank_within_class(labels: torch.Tensor) -> torch.Tensor:
    """For each sample, how many earlier samples share its label (0, 1, 2, ... per class)."""
    order = torch.argsort(labels, stable=True)
    sorted_y = labels[order]
    counts = torch.bincount(sorted_y)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(labels)
    rank[order] = torch.arange(len(labels)) - starts[sorted_y]
    return rank


def stratified_subsample(labels: torch.Tensor, max_samples: int = NC_SAMPLES, seed: int = 0) -> torch.Tensor:
    """Sorted indices of a fixed subsample keeping class proportions, at least min(n_k, 2) per class."""
    labels = labels.detach().cpu().long()
    n = len(labels)
    if n <= max_samples:
        return torch.arange(n)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    counts = torch.bincount(labels)
    take = torch.maximum(counts.clamp(max=2), counts * max_samples // n)
    y = labels[perm]
    return perm[rank_within_class(y) < take[y]].sort().values


def balanced_points(labels: torch.Tensor, max_points: int = SNAPSHOT_POINTS, seed: int = 0) -> torch.Tensor:
    """Sorted positions of ≤ max_points samples taken round-robin over classes (tail classes stay visible)."""
    labels = labels.detach().cpu().long()
    perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed + 1))
    rank = rank_within_class(labels[perm])
    order = perm[torch.argsort(rank * len(labels) + torch.arange(len(labels)))]
    return order[:max_points].sort().values


def classifier_params(model, num_classes: int, feature_dim: int | None = None):
    """(W, b) of `model.classifier` when it has a K×d `.weight` (and a K `.bias`); else (None, None)
    (e.g. multi-expert heads, or an ETF head acting on a projection of h rather than on h)."""
    head = getattr(model, "classifier", None)
    weight, bias = getattr(head, "weight", None), getattr(head, "bias", None)
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2 or weight.shape[0] != num_classes:
        return None, None
    if feature_dim is not None and weight.shape[1] != feature_dim:
        return None, None
    ok_bias = isinstance(bias, torch.Tensor) and bias.shape == (num_classes,)
    return weight.detach().float(), bias.detach().float() if ok_bias else None


def _subset(trainer):
    """The trainer's fixed NC subsample as un-augmented DeviceBatches, plus snapshot positions."""
    if trainer not in _SUBSETS:
        full = trainer.train_batches
        idx = stratified_subsample(full.y, NC_SAMPLES, trainer.config.seed).to(full.device)
        sub = copy.copy(full)
        sub.x, sub.y = full.x[idx], full.y[idx]
        n_points = min(SNAPSHOT_POINTS, max(100, SNAPSHOT_VALUES // max(trainer.model.feature_dim, 1)))
        _SUBSETS[trainer] = (sub, balanced_points(sub.y, n_points, trainer.config.seed))
    return _SUBSETS[trainer]


def _round(x, decimals: int = DECIMALS):
    """Round the floats inside nested lists/dicts (keeps the stored JSON small)."""
    if isinstance(x, dict):
        return {k: _round(v, decimals) for k, v in x.items()}
    if isinstance(x, list):
        return [_round(v, decimals) for v in x]
    return round(x, decimals) if isinstance(x, float) else x


def measure(trainer) -> tuple[dict, dict]:
    """(NC dict, snapshot) of the trainer's current model on its fixed training subsample.

    Measuring never changes training: the pass runs without gradients in eval mode (BatchNorm's
    running statistics untouched), draws no random numbers, and every module's train/eval mode is
    put back as it was (tests/metrics/test_nc_tracking.py trains with tracking on and off and
    compares the weights)."""
    sub, points = _subset(trainer)
    modes = [(m, m.training) for m in trainer.model.modules()]
    try:
        logits, feats = trainer.predict(sub, with_features=True)
    finally:
        for module, training in modes:
            module.training = training
    weight, bias = classifier_params(trainer.model, trainer.num_classes, feats.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NCWarning)
        nc = neural_collapse(feats, sub.y, weight, bias, predictions=logits.argmax(1),
                             num_classes=trainer.num_classes)
    means, counts = class_means(feats.float(), sub.y.long(), trainer.num_classes)
    pts = points.to(feats.device)
    snapshot = {"epoch": trainer.epoch,
                "features": torch.round(feats[pts].cpu().double(), decimals=3).tolist(),
                "labels": sub.y[pts].tolist(),
                "class_means": [_round(m, 4) if c else None for m, c in zip(means.tolist(), counts.tolist())],
                "classifier": _round(weight.tolist(), 4) if weight is not None else None}
    return nc, snapshot


def _put(entries: list, entry: dict) -> None:
    """Append, or replace the entry of the same epoch (the final state wins)."""
    if entries and entries[-1]["epoch"] == entry["epoch"]:
        entries[-1] = entry
    else:
        entries.append(entry)


def _record(trainer, nc: dict, snapshot: dict | None, epoch: int) -> None:
    scalars = {key: nc.get(key) for key in SCALARS}
    _put(trainer.extras.setdefault("nc_history", []), {"epoch": epoch, **scalars})
    if trainer.history and trainer.history[-1].get("epoch") == epoch:
        trainer.history[-1].update(scalars)                          # the live epoch event carries them
    if snapshot is not None:
        _put(trainer.extras.setdefault("snapshots", []), snapshot)


def on_epoch(trainer, epoch: int) -> None:
    """Called by the Trainer after each epoch (1-based `epoch`); measures when the config asks."""
    every, snaps = trainer.config.nc_every, trainer.config.snapshot_epochs
    tracked, snapped = every > 0 and epoch % every == 0, epoch in snaps
    if not (tracked or snapped):
        return
    try:
        nc, snapshot = measure(trainer)
    except NCInputError as exc:
        trainer.extras["nc_error"] = f"epoch {epoch}: {exc}"
        return
    if tracked:
        _record(trainer, nc, snapshot if snapped else None, epoch)
    else:
        _put(trainer.extras.setdefault("snapshots", []), snapshot)


def on_end(trainer) -> None:
    """Called once after training (also for stopped runs): final NC, minority collapse, snapshot."""
    try:
        nc, snapshot = measure(trainer)
    except (NCInputError, RuntimeError, TypeError) as exc:  # e.g. float64 on MPS: never fail the run
        trainer.extras["nc_error"] = f"end of training: {exc}"
        return
    _record(trainer, nc, snapshot, trainer.epoch)
    for key in ("mean_cosine", "weight_cosine", "mean_norms", "weight_norms"):
        nc[key] = _round(nc[key])
    trainer.extras["neural_collapse"] = nc
    weight, _ = classifier_params(trainer.model, trainer.num_classes, trainer.model.feature_dim)
    trainer.extras["minority_collapse"] = _round(minority_collapse(trainer.data.counts, weight, nc["mean_norms"]))
    trainer.extras["nc_settings"] = {"samples": nc["samples"], "max_samples": NC_SAMPLES,
                                     "snapshot_points": SNAPSHOT_POINTS, "seed": trainer.config.seed,
                                     "every": trainer.config.nc_every}
