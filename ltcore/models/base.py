"""Model = backbone (features) + a separate classifier head, so geometry metrics and decoupled
training can reach both."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..registry import Registry

MODELS = Registry("model")
"""name → factory(in_shape: tuple, num_classes: int) -> nn.Module backbone with `out_dim`."""


class LTModel(nn.Module):
    """`features(x)` is the penultimate feature h; `classifier(h)` gives the logits z."""

    def __init__(self, backbone: nn.Module, classifier: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier

    @property
    def feature_dim(self) -> int:
        return self.backbone.out_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        fast = self.__dict__.get("fast_features")  # a compiled backbone, set by the Trainer's loop
        if fast is not None and fast.applies(self, x):
            return fast(x)
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_model(name: str, in_shape: tuple, num_classes: int,
                classifier: nn.Module | None = None, pretrained: bool = False) -> LTModel:
    """Backbone from the registry plus `classifier` (a plain linear layer when None); `pretrained`
    starts the backbone from published weights (models registered with `pretrained=True` only)."""
    entry = MODELS.get(name)
    if pretrained and not entry.meta.get("pretrained"):
        with_weights = ", ".join(n for n in MODELS.names() if MODELS.get(n).meta.get("pretrained"))
        raise ConfigError(f"model {name!r} has no pre-trained weights; --pretrained works with: {with_weights}")
    backbone = entry.obj(tuple(in_shape), num_classes, **({"pretrained": True} if pretrained else {}))
    head = classifier if classifier is not None else nn.Linear(backbone.out_dim, num_classes)
    return LTModel(backbone, head)
