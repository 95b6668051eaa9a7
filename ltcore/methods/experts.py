"""SADE's multi-expert network and its test-time self-supervised aggregation (Zhang et al.
NeurIPS'22, "Self-Supervised Aggregation of Diverse Experts for Test-Agnostic Long-Tailed
Recognition"; code Vanint/SADE-AgnosticLT).

Architecture (`model/ldam_drw_resnets/expert_resnet_cifar.py` `ResNet_s`, `model/fb_resnets/
Expert_ResNet.py`): the early layers are shared, each expert has its own copy of the last stages at
¾ of the width (`reduce_dimension`: 24/48 channels instead of 32/64 for ResNet-32, 192/384 instead
of 256/512 for ResNet-50) and its own normalised classifier `NormedLinear` whose cosine logits are
multiplied by s = 30. The training prediction is the average of the experts' logits. Each backbone
of `ltcore.models` says where it splits (`expert_split`); the split here follows the authors at the
scale of each model.

Test-time aggregation (`test_training_cifar.py` `test_training`): expert weights a = softmax(θ),
θ ∈ R^E starting at 1/E, are learned on unlabelled test inputs by maximising the cosine similarity
between the predicted class distributions softmax(Σ_e a_e z_e) of two augmented views of each
input (SGD lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4, batch 128, up to 5 epochs, stopping
when a weight falls below 0.05); the prediction is then Σ_e a_e z_e.

The `sade` preset is the training stage only (experts averaged, a = 1/E), as every surface that
lists it says: test-time aggregation reads the unlabelled test inputs, which a lab run should not
do unless asked (`stage2=test_time_aggregation`). Its two test-time views are the run's own
training crop/flip with the authors' colour on top (`test_training_cifar.py` L179-187:
ColorJitter(0.4, 0.4, 0.4, 0.1) p = 0.8, grey-scale p = 0.2); their Gaussian blur (p = 0.2) is left
out, as for the contrastive views (images of at most 32×32 here).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .base import MethodContext
from .classifiers import NormedLinear
from .registries import CLASSIFIERS, STAGE2, Needs, integer
from .views import ViewRecipe, colour

NUM_EXPERTS = 3
EXPERT_WIDTH = 0.75
"""Each expert's stages have ¾ of the single model's width (the authors' `reduce_dimension`)."""
TTA = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "batch_size": 128, "min_weight": 0.05}
"""The authors' test-time settings (`configs/test_time_cifar100_ir100_sade.json`)."""
TEST_VIEW = ViewRecipe(crop_scale=(1.0, 1.0))
"""The colour of the authors' test-time views (`test_training_cifar.py` L179-187): ColorJitter(0.4,
0.4, 0.4, 0.1) with p = 0.8, grey-scale p = 0.2 (crop and flip come from the run's augmentation)."""


class ExpertBackbone(nn.Module):
    """A shared trunk and E expert branches; the feature is the experts' features side by side
    (B, E·d), so `features()` and the geometry metrics see one vector per input."""

    def __init__(self, trunk: nn.Module, branches: list[nn.Module], branch_dim: int):
        super().__init__()
        self.trunk = trunk
        self.branches = nn.ModuleList(branches)
        self.branch_dim = branch_dim
        self.out_dim = branch_dim * len(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shared = self.trunk(x)
        return torch.cat([branch(shared) for branch in self.branches], 1)


def expert_backbone(backbone: nn.Module, experts: int = NUM_EXPERTS) -> ExpertBackbone:
    """The SADE version of a backbone: its `expert_split(width)` gives the shared trunk, a factory
    for one expert's layers, and the expert feature size."""
    split = getattr(backbone, "expert_split", None)
    if split is None:
        raise ConfigError(f"SADE's experts need a model that can share its early layers; "
                          f"{type(backbone).__name__} cannot (use mlp, cnn, cnn1d, resnet32 or resnet18)")
    trunk, make_branch, dim = split(EXPERT_WIDTH)
    return ExpertBackbone(trunk, [make_branch() for _ in range(experts)], dim)


class ExpertHeads(nn.Module):
    """One normalised classifier per expert on its own block of the feature, logits s·cos (s = 30).

    `expert_logits(h)` is (E, B, K); `forward` is Σ_e a_e z_e with the aggregation weights a (1/E
    each, the authors' average, until test-time aggregation learns them). `weight` lists the experts'
    class vectors side by side (K × E·d), matching the feature layout."""

    def __init__(self, feat_dim: int, num_classes: int, experts: int = NUM_EXPERTS, scale: float = 30.0):
        super().__init__()
        if feat_dim % experts:
            raise ConfigError("classifier 'experts' needs the expert backbone of preset 'sade'")
        self.experts, self.scale = experts, float(scale)
        self.heads = nn.ModuleList(NormedLinear(feat_dim // experts, num_classes) for _ in range(experts))
        self.register_buffer("aggregation", torch.full((experts,), 1.0 / experts))

    @property
    def weight(self) -> torch.Tensor:
        return torch.cat([head.weight for head in self.heads], 1)

    def expert_logits(self, h: torch.Tensor) -> torch.Tensor:
        blocks = h.chunk(self.experts, dim=1)
        return torch.stack([self.scale * head(b) for head, b in zip(self.heads, blocks)])

    def train_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.expert_logits(h)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = self.expert_logits(h)
        return (self.aggregation.to(z.dtype)[:, None, None] * z).sum(0)


def aggregation_loss(theta: torch.Tensor, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
    """−mean_i cos(softmax(Σ_e a_e z0_e)_i, softmax(Σ_e a_e z1_e)_i), a = softmax(θ); z (E, B, K)
    the expert logits of two views (the authors' `test_training` loss, eps 1e-6)."""
    a = torch.softmax(theta, 0)[:, None, None]
    p0 = torch.softmax((a * z0).sum(0), 1)
    p1 = torch.softmax((a * z1).sum(0), 1)
    return -F.cosine_similarity(p0, p1, dim=1, eps=1e-6).mean()


def two_views(ctx: MethodContext, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Two augmented views of test inputs idx: the training crop/flip of the data set, then the
    authors' test-time colour (`TEST_VIEW`: ColorJitter and grey-scale in pixel units; their blur
    is left out); data without image augmentation get Gaussian input noise (σ = 0.1 after
    normalisation) instead."""
    raw = ctx.test_inputs.x[idx]
    train = ctx.train_batches
    if train.is_image and train.augment != "none":
        def view():
            x = train.prepare(raw, True)
            if train.mean is None:
                return x
            return (colour(x * train.std + train.mean, TEST_VIEW, ctx.gen, True) - train.mean) / train.std
        return view(), view(), f"{train.augment} + colour jitter, grey-scale"
    x = ctx.test_inputs.prepare(raw, False)
    noise = lambda: 0.1 * torch.randn(x.shape, device=x.device, generator=ctx.gen)  # noqa: E731
    return x + noise(), x + noise(), "gaussian noise σ=0.1"


def test_time_aggregation(method, ctx: MethodContext, tta_epochs: int = 5) -> dict:
    """Learn the expert weights on the unlabelled test inputs (the test labels are never read) and
    install them in the head; returns the weights per epoch for the run's extras."""
    if ctx.test_inputs is None:
        raise ConfigError("test-time aggregation needs the test inputs of the run")
    model = ctx.model
    head = model.classifier
    if not isinstance(head, ExpertHeads):
        raise ConfigError("stage2 'test_time_aggregation' needs the experts of preset 'sade'")
    model.eval()
    theta = torch.full((head.experts,), 1.0 / head.experts, device=ctx.device, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=TTA["lr"], momentum=TTA["momentum"], nesterov=True,
                          weight_decay=TTA["weight_decay"])
    n, views, history = len(ctx.test_inputs), "", []
    for epoch in range(tta_epochs):
        order = torch.randperm(n, device=ctx.device, generator=ctx.gen)
        for start in range(0, n, TTA["batch_size"]):
            idx = order[start:start + TTA["batch_size"]]
            v0, v1, views = two_views(ctx, idx)
            with torch.no_grad(), torch.autocast(ctx.device.type, enabled=False):
                z0 = head.expert_logits(model.features(v0).float())
                z1 = head.expert_logits(model.features(v1).float())
            loss = aggregation_loss(theta, z0, z1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        weights = torch.softmax(theta.detach(), 0)
        history.append([round(float(w), 4) for w in weights])
        ctx.emit({"type": "stage2", "stage": "test_time_aggregation", "epoch": epoch + 1,
                  "epochs": tta_epochs, "weights": history[-1]})
        if min(round(float(w), 2) for w in weights) < TTA["min_weight"] or ctx.should_stop():
            break
    head.aggregation.copy_(torch.softmax(theta.detach(), 0))
    return {"sade_weights": [round(float(w), 4) for w in head.aggregation],
            "sade_weight_history": history, "sade_views": views}


CLASSIFIERS.add("experts", ExpertHeads, "SADE: three experts with their own last stages and normalised "
                "classifiers (s = 30) on shared early layers, averaged", paper="Zhang et al. NeurIPS'22 (SADE)",
                params={}, needs=(Needs("loss", allowed=("sade",), why="trains with loss 'sade'"),),
                backbone=expert_backbone)
STAGE2.add("test_time_aggregation", test_time_aggregation, "SADE test-time self-supervised aggregation: "
           "expert weights learned on unlabelled test inputs (two augmented views agree)",
           paper="Zhang et al. NeurIPS'22 (SADE)",
           needs=(Needs("classifier", allowed=("experts",),
                        why="weighs the experts of preset 'sade' (classifier 'experts')"),),
           params={"tta_epochs": integer(5, "SADE test-time aggregation: epochs over the unlabelled test "
                                         "inputs (the authors use 5, stopping early when an expert's "
                                         "weight drops below 0.05)", lambda v: v >= 1, "≥ 1")})
