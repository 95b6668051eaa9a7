"""A 1-D CNN for short signals (MNIST-1D): the `ConvBase` of Greydanus 2020, "Scaling down deep
learning" (arXiv:2011.14439; greydanus/mnist1d `notebooks/models.py`), whose CNN reaches ≈ 94%
on the 4000-signal MNIST-1D (paper, Fig. 2).

Three strided convolutions with 25 channels (kernel 5/3/3, stride 2, padding 1, ReLU) turn a
40-long signal into 25 × 5 values; flattened, they are the 125-d feature h, and the authors'
final linear layer is the lab's separate classifier head.

For SADE (`expert_split`) the first two convolutions are shared and each expert has its own last
convolution at ¾ of the channels, as the authors' `expert_resnet_cifar.py` shares the early stages
and gives every expert its own last stage(s) at reduced width.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import MODELS


class ConvNet1d(nn.Module):
    """conv1d(1→c, 5, s2, p1) → conv1d(c→c, 3, s2, p1) → conv1d(c→c, 3, s2, p1), ReLU after each,
    flattened (c · L_out features)."""

    def __init__(self, in_shape: tuple, channels: int = 25):
        super().__init__()
        length = math.prod(in_shape)
        self.net = nn.Sequential(
            nn.Conv1d(1, channels, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten())
        for kernel in (5, 3, 3):
            length = (length + 2 - kernel) // 2 + 1
        self.out_dim = channels * length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], 1, -1))

    def expert_split(self, width: float):
        """SADE split (Vanint/SADE-AgnosticLT `model/ldam_drw_resnets/expert_resnet_cifar.py`: shared
        early layers, each expert its own last stage at `reduce_dimension` width): the first two
        convolutions shared, each expert its own third conv1d(c→round(c·width), 3, s2, p1) + ReLU
        (¾ of 25 → 19 channels, a 95-d expert feature for 40-long signals)."""
        conv = self.net[4]
        channels = max(1, round(conv.out_channels * width))
        length = self.out_dim // conv.out_channels

        def branch():
            return nn.Sequential(nn.Conv1d(conv.in_channels, channels, conv.kernel_size, stride=conv.stride,
                                           padding=conv.padding), nn.ReLU(), nn.Flatten())

        return nn.Sequential(AsSignal(), *self.net[:4]), branch, channels * length


class AsSignal(nn.Module):
    """(B, L) or (B, 1, L) → (B, 1, L): the reshape `ConvNet1d.forward` does, as a layer of the
    shared SADE trunk."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, -1)


@MODELS.register("cnn1d", "1-D CNN of the MNIST-1D paper (Greydanus 2020 ConvBase): 3 strided "
                 "conv1d × 25 channels, 125-d feature for 40-long signals", inputs="signal")
def cnn1d(in_shape, num_classes):
    return ConvNet1d(in_shape)
