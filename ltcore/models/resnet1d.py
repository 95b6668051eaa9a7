"""A 1-D ResNet with BatchNorm for short signals (MNIST-1D): the CIFAR ResNet-(6n+2) of He et al.
2016 §4.2 (as in Cao et al.'s LDAM-DRW `models/resnet_cifar.py`: 16/32/64 channels, option-A
shortcuts that subsample and zero-pad channels, global average pooling → 64-d feature) with its
3×3 convolutions made 1-D (kernel 3). With n = 2 blocks a stage (ResNet-14, ≈ 57k parameters) a
40-long signal goes 40 → 20 → 10 through the three stages: the over-parameterised, BatchNorm
regime of the CIFAR-LT results (ResNet-32, 0.46M parameters, 50k 32×32 images) scaled to
MNIST-1D-LT's 2.5k signals, so the network memorises its training set as ResNet-32 does there."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import MODELS
from .resnet import kaiming_convs, sade_branch, stage_blocks


class BasicBlock1d(nn.Module):
    """conv3-BN-ReLU-conv3-BN plus the shortcut, then ReLU; down-sampling shortcut = option A."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv1d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(planes)
        self.conv2 = nn.Conv1d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(planes)
        self.pad = planes - in_planes
        self.stride = stride

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, ::self.stride]
        return F.pad(x, (0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet1d(nn.Module):
    """ResNet-(6n+2) on (B, L) or (B, 1, L) signals: stem conv3(1→16)-BN-ReLU, three stages of n
    blocks (16, 32/2, 64/2), global average pooling → 64-d feature h."""

    def __init__(self, blocks_per_stage: int = 2, widths: tuple = (16, 32, 64)):
        super().__init__()
        self.out_dim = widths[-1]
        self.stem = nn.Sequential(nn.Conv1d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm1d(widths[0]),
                                  nn.ReLU())
        strides = (1,) + (2,) * (len(widths) - 1)
        self.layers = nn.Sequential(*stage_blocks(BasicBlock1d, widths[0], widths, blocks_per_stage, strides))
        kaiming_convs(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(self.stem(x.reshape(x.shape[0], 1, -1)))
        return out.mean(dim=2)

    def expert_split(self, width: float):
        """SADE split (Vanint/SADE-AgnosticLT `expert_resnet_cifar.py`): stem and first stage shared,
        each expert its own second and third stages at `width` (¾: 24 and 48 channels)."""
        n = len(self.layers) // 3
        trunk = nn.Sequential(AsSignal1d(), self.stem, *self.layers[:n])
        planes = [max(1, round(32 * width)), max(1, round(64 * width))]

        in_planes = self.layers[n - 1].conv2.out_channels
        return trunk, lambda: sade_branch(BasicBlock1d, in_planes, planes, n, nn.AdaptiveAvgPool1d(1)), planes[-1]


class AsSignal1d(nn.Module):
    """(B, L) or (B, 1, L) → (B, 1, L), as the first layer of the shared SADE trunk."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, -1)


@MODELS.register("resnet1d", "1-D ResNet-14 with BatchNorm (CIFAR ResNet layout, 16/32/64 channels, "
                 "2 blocks a stage, ≈ 57k params, 64-d feature) for 1-D signals", inputs="signal")
def resnet1d(in_shape, num_classes):
    return ResNet1d(2)
