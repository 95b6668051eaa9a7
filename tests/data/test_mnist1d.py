"""MNIST-1D: generated offline by the `mnist1d` package, split into a 1000/class training pool, a
100/class validation split and a 400/class test set, cached in the data folder."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from ltcore.data import load_split, make_longtail
from ltcore.data import mnist1d_set
from ltcore.models import build_model


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    return load_split("mnist1d", tmp_path_factory.mktemp("m1d"))


def test_shapes_and_counts_per_class(split):
    assert split.x_train.shape == (10_000, 40) and split.x_train.dtype == torch.float32
    assert torch.bincount(split.y_train).tolist() == [1000] * 10
    assert torch.bincount(split.y_val).tolist() == [100] * 10
    assert torch.bincount(split.y_test).tolist() == [400] * 10
    whole = torch.cat([split.x_train, split.x_val, split.x_test])
    assert abs(float(whole.mean())) < 1e-4 and float(whole.std()) == pytest.approx(1.0, abs=1e-3)
    # a CIFAR-10-LT-like long tail: n_max 1000, ρ = 200 leaves 5 for the tail class
    assert make_longtail(split, "exp", 200, seed=0).counts[::9] == [1000, 5]


def test_signals_are_the_packages_own(split):
    """The signals are the `mnist1d` package's (its make_dataset, its default arguments), and the
    three parts of the split are exactly the 15,000 generated signals, each in one part."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split = 100, 1.0
    expected = make_dataset(args)
    (x, y), _ = mnist1d_set.generate(100)
    assert torch.allclose(x.double(), torch.as_tensor(expected["x"]), atol=1e-6)
    assert torch.equal(y, torch.as_tensor(expected["y"]).long())
    x_all, _ = mnist1d_set._generated(15_000, mnist1d_set.SEED)
    parts = torch.cat([split.x_train, split.x_val, split.x_test])
    key = torch.randn(40, dtype=torch.float64)
    assert sorted((parts.double() @ key).tolist()) == sorted((x_all.double() @ key).tolist())


def test_generation_keeps_the_callers_random_state():
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    mnist1d_set.generate(20)
    assert np.array_equal(np.random.get_state()[1], before)


def test_second_load_reads_the_cache_and_is_deterministic(tmp_path, monkeypatch):
    small = dict(train_per_class=6, val_per_class=2, test_per_class=2)
    first = mnist1d_set.mnist1d_split(tmp_path, **small)
    assert mnist1d_set.cache_path(tmp_path / "mnist1d", 100).is_file()

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached signals should have been read")

    mnist1d_set._generated.cache_clear()
    monkeypatch.setattr(mnist1d_set, "generate", no_generation)
    again = mnist1d_set.mnist1d_split(tmp_path, **small)
    for a, b in ((first.x_train, again.x_train), (first.y_val, again.y_val), (first.x_test, again.x_test)):
        assert torch.equal(a, b)
    assert torch.bincount(again.y_train).tolist() == [6] * 10


@pytest.mark.parametrize("model", ["cnn1d", "mlp"])
def test_models_take_40_long_signals(model):
    net = build_model(model, (40,), 10)
    x = torch.randn(7, 40)
    assert net.features(x).shape == (7, net.feature_dim) and net(x).shape == (7, 10)
    if model == "cnn1d":
        assert net.feature_dim == 125  # 25 channels × 5 positions, as the paper's ConvBase
        assert sum(p.numel() for p in net.backbone.parameters()) == 3_950


@pytest.mark.slow
def test_cli_trains_mnist1d_lt_for_two_epochs(tmp_path, split):
    mnist1d_set.load_signals(tmp_path / "mnist1d", 15_000)  # the generated signals, cached for the CLI
    out = subprocess.run([sys.executable, "-m", "ltcore", "train", "--dataset", "mnist1d", "--ratio", "100",
                          "--epochs", "2", "--device", "cpu", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "balanced" in out.stdout


def test_missing_generator_package_is_one_line_saying_what_to_install(monkeypatch, tmp_path):
    """A machine without the `mnist1d` package (a bare GPU image) gets an install hint, or can use a
    cache file copied from elsewhere."""
    from ltcore.errors import DataMissingError

    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(DataMissingError, match="pip install mnist1d==") as info:
        mnist1d_set.load_signals(tmp_path, 20, seed=7)
    assert "\n" not in str(info.value)
