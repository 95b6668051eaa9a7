"""Self-supervised pre-training (SSP), Yang & Xu NeurIPS'20 "Rethinking the Value of Labels for
Improving Class-Imbalanced Learning" §4: a first stage on the training images with their labels
unused, then the usual supervised training starting from its backbone. The `pretext` slot.

As the authors' github.com/YyzHarry/imbalanced-semi-self: on CIFAR-LT the pretext task is rotation
prediction (`pretrain_rot.py`: a 4-way classifier on images turned by 0/90/180/270°, the angles a
shuffled balanced list per batch, `utils.py` `rotation` L12-21; plain CE; the same 200-epoch SGD
recipe as the supervised run), and `train.py` L180-189 then loads every weight except the
classifier (`'linear' not in k and 'fc' not in k`). Their ImageNet/iNaturalist stage is MoCo.
Rotation needs square images; for signals and vectors (MNIST-1D, tabular) this stage uses a
SimCLR contrastive task instead (Chen et al. ICML'20: NT-Xent over two device-made views, an MLP
projection head, τ = 0.5), which `ssp_task="simclr"` also selects for images.

The pre-trained backbone is saved as a checkpoint keyed by the data, seed, model, optimiser
settings and the pretext settings (not by the supervised loss), so every SSP run on the same data
reuses it, as the decoupling methods reuse their stage 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoints import find_checkpoint, save_checkpoint
from ..errors import ConfigError
from .contrastive import mlp_head
from .registries import PRETEXT, integer, number, text
from .views import two_views

TASKS = ("auto", "rotation", "simclr")


def rotation_targets(batch: int, gen: torch.Generator | None = None, device=None) -> torch.Tensor:
    """The authors' rotation labels: a random permutation of [0, 1, 2, 3] × (B//4 + 1), first B
    (every angle about equally often in a batch)."""
    pool = torch.arange(4, device=device).repeat(batch // 4 + 1)
    return pool[torch.randperm(len(pool), device=device, generator=gen)][:batch]


def rotate(x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Image i turned by targets_i × 90° in the (H, W) plane (torch.rot90, as the authors)."""
    turns = torch.stack([torch.rot90(x, k, (2, 3)) for k in range(4)])
    return turns[targets, torch.arange(len(targets), device=x.device)]


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """SimCLR's NT-Xent (Chen et al. ICML'20 Eq. 1): each of the 2B normalised projections has its
    other view as the positive and the 2B − 2 other projections as negatives."""
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    b = len(z1)
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(sim, target)


def run_lr(config, epoch: int, epochs: int) -> float:
    """The run's learning rate for `epoch` of `epochs` (linear warm-up, then its schedule), as the
    authors pre-train with the same recipe as the supervised stage."""
    if epoch < config.warmup_epochs:
        return config.lr * (epoch + 1) / config.warmup_epochs
    if config.schedule == "multistep":
        return config.lr * config.lr_gamma ** sum(epoch >= m for m in config.milestones)
    if config.schedule == "cosine":
        span = max(epochs - config.warmup_epochs, 1)
        return config.lr * 0.5 * (1 + math.cos(math.pi * (epoch - config.warmup_epochs) / span))
    return config.lr


class SelfSupervisedStage:
    """Runs (or reuses) the pretext stage and loads its backbone into the model (`run`)."""

    def __init__(self, ssp_task: str = "auto", ssp_epochs: int | None = None, ssp_temperature: float = 0.5):
        if ssp_task not in TASKS:
            raise ConfigError(f"ssp_task must be one of {', '.join(TASKS)}, got {ssp_task!r}")
        self.task, self.epochs, self.temperature = ssp_task, ssp_epochs, float(ssp_temperature)

    def resolve_task(self, x: torch.Tensor) -> str:
        square = x.dim() == 4 and x.shape[-1] == x.shape[-2]
        if self.task == "rotation" and not square:
            raise ConfigError("ssp_task 'rotation' turns square images; this data set is not one: use "
                              "ssp_task 'simclr'")
        if self.task == "auto":
            return "rotation" if square else "simclr"
        return self.task

    def key(self, ctx, task: str, epochs: int, holdout: float):
        """The config whose run id names the pre-trained checkpoint."""
        params = {"ssp_task": task, "ssp_epochs": epochs, "holdout": holdout}
        if task == "simclr":
            params["ssp_temperature"] = self.temperature
        return ctx.config.replace(method="ssp_pretext", method_params=params, nc_every=0, snapshot_epochs=())

    def run(self, method, ctx) -> dict:
        batches = ctx.train_batches
        task = self.resolve_task(batches.x[:1])
        epochs = int(self.epochs or ctx.config.epochs)
        key = self.key(ctx, task, epochs, float(method.params.get("holdout") or 0.0))
        info = {"task": task, "epochs": epochs, "run_id": key.run_id}
        state = find_checkpoint(key, ctx.checkpoint_root)
        if state is None:
            history = self.train(method, ctx, task, epochs)
            info.update(loss=history, reused=False)
            if ctx.should_stop():
                return {**info, "stopped": True}
            if ctx.save_checkpoints:
                save_checkpoint(key, ctx.model, ctx.checkpoint_root)
        else:
            backbone = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
            ctx.model.backbone.load_state_dict(backbone)
            info["reused"] = True
        # a new classifier for the supervised stage, as train.py drops the pretext's fc
        return info

    def train(self, method, ctx, task: str, epochs: int) -> list[float]:
        model, config, batches = ctx.model, ctx.config, ctx.train_batches
        d = model.feature_dim
        head = (nn.Linear(d, 4) if task == "rotation" else mlp_head(d, 128)).to(ctx.device)
        params = [*model.backbone.parameters(), *head.parameters()]
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
        idx = method.kept_indices(batches.y)
        flip = batches.augment == "crop_flip"
        history = []
        for epoch in range(epochs):
            for group in opt.param_groups:
                group["lr"] = run_lr(config, epoch, epochs)
            model.train()
            head.train()
            order = idx[torch.randperm(len(idx), device=idx.device, generator=ctx.gen)]
            total, steps = torch.zeros((), device=ctx.device), 0
            drop_last = len(order) % config.batch_size == 1
            for xb, _ in batches.batches(order, config.batch_size, drop_last=drop_last):
                with ctx.autocast():
                    if task == "rotation":
                        t = rotation_targets(len(xb), ctx.gen, xb.device)
                        loss = F.cross_entropy(head(model.features(rotate(xb, t))).float(), t)
                    else:
                        v1, v2, _ = two_views(xb, xb.new_zeros(len(xb)), ctx.gen, flip)
                        z = head(model.features(torch.cat([v1, v2])))
                        loss = nt_xent(z[:len(xb)], z[len(xb):], self.temperature)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach().float()
                steps += 1
                if ctx.should_stop():
                    break
            history.append(float(total) / max(steps, 1))
            ctx.emit({"type": "stage1", "stage": f"ssp_{task}", "epoch": epoch + 1, "epochs": epochs,
                      "loss": history[-1]})
            if ctx.should_stop():
                break
        return history


PRETEXT.add("none", lambda: None, "no self-supervised stage", paper="—", params={})
PRETEXT.add("ssp", SelfSupervisedStage, "self-supervised pre-training on the training images (labels "
            "unused): rotation prediction, or SimCLR where images are not square", paper="Yang & Xu NeurIPS'20",
            params={"ssp_task": text("auto", "SSP pretext task: auto (rotation for square images as the "
                                     "authors' CIFAR code, else simclr), rotation or simclr"),
                    "ssp_epochs": integer(None, "SSP: pre-training epochs; None = the run's epochs (as the "
                                          "authors)", lambda v: v >= 1, "≥ 1", optional=True),
                    "ssp_temperature": number(0.5, "SSP SimCLR task: NT-Xent temperature τ", lambda v: v > 0,
                                              "> 0")})
