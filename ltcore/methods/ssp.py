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

import torch
import torch.nn.functional as F
from torch import nn

from ..engine.checkpoints import find_checkpoint, save_checkpoint
from ..errors import ConfigError
from ..engine.loop import Batches, epoch_batches, train_epochs
from .contrastive import mlp_head
from .registries import PRETEXT, integer, number, text
from .views import SIM, two_views

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
        """The pretext stage: backbone + a pretext head, the run's optimiser settings and schedule
        over `epochs`, the training images in a fresh random order each epoch (labels unused)."""
        model, config, batches = ctx.model, ctx.config, ctx.train_batches
        d = model.feature_dim
        head = (nn.Linear(d, 4) if task == "rotation" else mlp_head(d, 128)).to(ctx.device)
        params = [*model.backbone.parameters(), *head.parameters()]
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
        idx = method.kept_indices(batches.y)
        flip = batches.augment == "crop_flip"

        def loss(xb: torch.Tensor, _y, _epoch) -> torch.Tensor:
            if task == "rotation":
                t = rotation_targets(len(xb), ctx.gen, xb.device)
                return F.cross_entropy(head(model.features(rotate(xb, t))).float(), t)
            v1, v2, _ = two_views(xb, xb.new_zeros(len(xb)), ctx.gen, flip, SIM, batches.mean, batches.std)
            z = head(model.features(torch.cat([v1, v2])))
            return nt_xent(z[:len(xb)], z[len(xb):], self.temperature)

        def shuffled(_epoch) -> Batches:
            order = idx[torch.randperm(len(idx), device=idx.device, generator=ctx.gen)]
            return epoch_batches(batches, order, config.batch_size)

        return train_epochs(ctx, opt, epochs, loss, shuffled,
                            {"type": "stage1", "stage": f"ssp_{task}", "epochs": epochs}, modules=(model, head))


PRETEXT.add("none", lambda: None, "no self-supervised stage", paper="—", params={})
PRETEXT.add("ssp", SelfSupervisedStage, "self-supervised pre-training on the training images (labels "
            "unused): rotation prediction, or SimCLR where images are not square", paper="Yang & Xu NeurIPS'20",
            params={"ssp_task": text("auto", "SSP pretext task: auto (rotation for square images as the "
                                     "authors' CIFAR code, else simclr), rotation or simclr"),
                    "ssp_epochs": integer(None, "SSP: pre-training epochs; None = the run's epochs (as the "
                                          "authors)", lambda v: v >= 1, "≥ 1", optional=True),
                    "ssp_temperature": number(0.5, "SSP SimCLR task: NT-Xent temperature τ", lambda v: v > 0,
                                              "> 0")})
