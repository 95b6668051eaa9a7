"""The MNIST-1D-LT benchmark regime's pieces: the 1-D ResNet with BatchNorm, the random shift of
signals, the noisier MNIST-1D and the resnet1d_ldam recipe."""
import torch

from ltcore import Config
from ltcore.data import mnist1d_set
from ltcore.data.device_loader import DeviceBatches, random_shift
from ltcore.models import build_model
from ltcore.recipes import RECIPES


def test_resnet1d_is_a_cifar_resnet_layout_for_signals():
    net = build_model("resnet1d", (40,), 10)
    x = torch.randn(5, 40)
    assert net.features(x).shape == (5, 64) and net(x).shape == (5, 10)
    assert 50_000 < sum(p.numel() for p in net.backbone.parameters()) < 65_000
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules())
    trunk, branch, dim = net.backbone.expert_split(0.75)        # SADE: each expert its own last stages
    assert branch()(trunk(x)).shape == (5, dim) and dim == 48


def test_random_shift_moves_each_signal_within_pad_with_zero_fill():
    x = torch.arange(1, 41, dtype=torch.float32).repeat(64, 1)
    out = random_shift(x, 3, torch.Generator().manual_seed(0))
    shifts = set()
    for row in out:
        kept = row[row != 0]
        first = int(kept[0]) - 1 if row[0] != 0 else -int((row == 0).sum())
        shifts.add(first)
        assert torch.equal(kept, torch.arange(kept[0], kept[0] + len(kept)))   # a contiguous window
    assert shifts <= set(range(-3, 4)) and len(shifts) > 3


def test_signals_are_shifted_only_with_crop_and_only_in_training():
    x, y = torch.randn(8, 40), torch.zeros(8, dtype=torch.long)
    plain = DeviceBatches(x, y, "cpu", augment="none", signal=True, pad=3)
    shifted = DeviceBatches(x, y, "cpu", augment="crop", signal=True, pad=3)
    assert torch.equal(plain.prepare(x, True), x) and torch.equal(shifted.prepare(x, False), x)
    assert not torch.equal(shifted.prepare(x, True), x)


def test_noisy_mnist1d_is_the_package_with_raised_noise(tmp_path):
    (quiet, _), _ = mnist1d_set.generate(100)
    (noisy, y), _ = mnist1d_set.generate(100, noise=mnist1d_set.NOISY)
    assert noisy.shape == quiet.shape == (100, 40) and not torch.allclose(noisy, quiet)
    assert mnist1d_set.cache_path(tmp_path, 100, noise=mnist1d_set.NOISY).name == \
        "mnist1d-100-seed42-iid0.1-corr0.35-v1.pt"


def test_regime_recipe_is_the_ldam_drw_schedule_on_resnet1d():
    recipe = RECIPES.get("resnet1d_ldam").obj
    config = Config(dataset="mnist1d_noisy", **recipe).validate()
    assert config.model == "resnet1d" and config.augment == "crop" and config.warmup_epochs == 5
    assert config.milestones == (48, 54) and config.lr_gamma == 0.01 and config.epochs == 60
