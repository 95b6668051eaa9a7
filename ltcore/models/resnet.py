"""ResNets for small images: the CIFAR ResNet-32 of the LDAM-DRW recipe (He et al. 2016, §4.2;
option-A shortcuts as in Cao et al.'s `models/resnet_cifar.py`) and torchvision's ResNet-18 with a
3×3 stem and no max-pool for 32×32 inputs."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DataMissingError
from .base import MODELS


def stage_blocks(block, in_planes: int, widths, blocks_per_stage: int, strides) -> list[nn.Module]:
    """The blocks of a CIFAR ResNet's stages (He et al. 2016 §4.2), 1-D or 2-D by `block`: per width,
    `blocks_per_stage` blocks, the first with that stage's stride."""
    blocks = []
    for planes, stride in zip(widths, strides):
        for b in range(blocks_per_stage):
            blocks.append(block(in_planes, planes, stride if b == 0 else 1))
            in_planes = planes
    return blocks


def kaiming_convs(net: nn.Module) -> nn.Module:
    """He-normal initialisation of every convolution, as the authors' `resnet_cifar.py` does."""
    for m in net.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight)
    return net


def sade_branch(block, in_planes: int, planes: list[int], blocks_per_stage: int, pool: nn.Module) -> nn.Sequential:
    """One SADE expert's own stages (Vanint/SADE-AgnosticLT `expert_resnet_cifar.py`): the last two
    stages at the expert's widths, each down-sampling by 2, then global pooling."""
    blocks = stage_blocks(block, in_planes, planes, blocks_per_stage, (2,) * len(planes))
    return kaiming_convs(nn.Sequential(*blocks, pool, nn.Flatten()))


class BasicBlockA(nn.Module):
    """3×3-3×3 residual block; a down-sampling shortcut subsamples and zero-pads channels (option A)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes - in_planes
        self.stride = stride

    def shortcut(self, x):
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32×32 images: 16/32/64 channels, global pooling → 64-d feature."""

    def __init__(self, in_channels: int = 3, blocks_per_stage: int = 5):
        super().__init__()
        self.out_dim = 64
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layers = nn.Sequential(*stage_blocks(BasicBlockA, 16, (16, 32, 64), blocks_per_stage, (1, 2, 2)))
        kaiming_convs(self)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)

    def expert_split(self, width: float):
        """SADE split (Vanint/SADE-AgnosticLT `expert_resnet_cifar.py`): stem and first stage shared,
        each expert its own second and third stages at `width` (¾: 24 and 48 channels)."""
        n = len(self.layers) // 3
        trunk = nn.Sequential(self.conv1, self.bn1, nn.ReLU(), *self.layers[:n])
        planes = [max(1, round(32 * width)), max(1, round(64 * width))]

        return trunk, lambda: sade_branch(BasicBlockA, 16, planes, n, nn.AdaptiveAvgPool2d(1)), planes[-1]


class ResNet18Small(nn.Module):
    """torchvision ResNet-18 with a 3×3 stride-1 stem and no max-pool (512-d feature)."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None)
        net.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
        net.fc = nn.Identity()
        self.net = net
        self.out_dim = 512

    def forward(self, x):
        return self.net(x)

    def expert_split(self, width: float):
        """SADE split (as the authors' `Expert_ResNet.py`): stem, layer1 and layer2 shared, each
        expert its own layer3 and layer4 at `width` (¾: 192 and 384 channels)."""
        from torchvision.models.resnet import BasicBlock

        net = self.net
        trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2)
        planes = [max(1, round(256 * width)), max(1, round(512 * width))]

        def branch():
            layers, in_planes = [], 128
            for p in planes:
                down = nn.Sequential(nn.Conv2d(in_planes, p, 1, 2, bias=False), nn.BatchNorm2d(p))
                layers += [BasicBlock(in_planes, p, 2, down), BasicBlock(p, p)]
                in_planes = p
            return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())

        return trunk, branch, planes[-1]


@MODELS.register("resnet32", "CIFAR ResNet-32 of the LDAM-DRW recipe, 0.46M params, 64-d feature",
                 inputs="image")
def resnet32(in_shape, num_classes):
    return CifarResNet(in_shape[0], 5)


def imagenet_weights_file() -> Path:
    """Where torchvision keeps ResNet-18's ImageNet weights: `<torch hub dir>/checkpoints/<file of
    ResNet18_Weights.IMAGENET1K_V1>` (hub dir = $TORCH_HOME/hub, default ~/.cache/torch/hub)."""
    import torch.hub
    from torchvision.models import ResNet18_Weights

    url = ResNet18_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_imagenet_weights(backbone: ResNet18Small) -> dict:
    """Copy torchvision's ImageNet ResNet-18 weights into `backbone` from the torch hub cache,
    offline (never downloads). Every tensor whose name and shape match is copied; the adapted
    3×3 stem (`conv1`, ImageNet's is 7×7) and the 1000-class `fc` keep their own initialisation.
    Returns {"file", "loaded", "skipped"}; DataMissingError says where to put the file."""
    path = imagenet_weights_file()
    if not path.is_file():
        from torchvision.models import ResNet18_Weights
        raise DataMissingError(f"--pretrained needs torchvision's ImageNet ResNet-18 weights: put "
                               f"{path.name} ({ResNet18_Weights.IMAGENET1K_V1.url}) into {path.parent} "
                               "(or set TORCH_HOME to the folder whose hub/checkpoints holds it)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: one line, not a traceback
        raise DataMissingError(f"{path} is not a readable ResNet-18 state dict ({type(exc).__name__}); "
                               "download it again") from None
    own = backbone.net.state_dict()
    use = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not use:
        raise DataMissingError(f"{path} holds no ResNet-18 weights (none of its tensors fits); download it again")
    backbone.net.load_state_dict({**own, **use})
    return {"file": str(path), "loaded": len(use), "skipped": sorted(set(own) - set(use))}


@MODELS.register("resnet18", "torchvision ResNet-18 adapted to small images (3×3 stem, no "
                 "max-pool), 512-d feature; pretrained=True starts from torchvision's ImageNet weights",
                 inputs="image", pretrained=True)
def resnet18(in_shape, num_classes, pretrained: bool = False):
    backbone = ResNet18Small(in_shape[0])
    if pretrained:
        backbone.pretrained = load_imagenet_weights(backbone)
    return backbone
