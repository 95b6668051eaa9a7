"""Small models for 2-D/tabular data (MLP) and small grey images (CNN)."""
from __future__ import annotations

import math

from torch import nn

from .base import MODELS


class MLP(nn.Module):
    """Two hidden ReLU layers; the second is the feature h (for Gaussians and tabular data)."""

    def __init__(self, in_shape: tuple, num_classes: int, hidden: int = 64):
        super().__init__()
        self.out_dim = hidden
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)

    def expert_split(self, width: float):
        """SADE split: the first hidden layer shared, each expert its own second layer."""
        dim = max(1, round(self.out_dim * width))
        return self.net[:3], lambda: nn.Sequential(nn.Linear(self.out_dim, dim), nn.ReLU()), dim


class SmallCNN(nn.Module):
    """Two conv-BN-ReLU stages and global pooling, 64-d feature (digits, MNIST)."""

    def __init__(self, in_shape: tuple, num_classes: int, width: int = 32):
        super().__init__()
        c = in_shape[0] if len(in_shape) == 3 else 1
        self.out_dim = 2 * width
        self.net = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.net(x)

    def expert_split(self, width: float):
        """SADE split: the two first convolutions and the pooling shared, each expert its own last
        conv-BN-ReLU stage."""
        dim = max(1, round(self.out_dim * width))

        def branch():
            return nn.Sequential(nn.Conv2d(self.out_dim, dim, 3, padding=1, bias=False), nn.BatchNorm2d(dim),
                                 nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

        return self.net[:7], branch, dim


@MODELS.register("mlp", "MLP 2×64 ReLU for 2-D/tabular vectors (64-d feature)", inputs="vector")
def mlp(in_shape, num_classes):
    return MLP(in_shape, num_classes)


@MODELS.register("cnn", "small 3-conv CNN for small grey images: digits, MNIST (64-d feature)",
                 inputs="image")
def cnn(in_shape, num_classes):
    return SmallCNN(in_shape, num_classes)
