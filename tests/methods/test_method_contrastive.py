"""Representation-learning presets (BCL, KCL, PaCo, SSP): device-made views keep their labels, the
queue and key encoder behave as MoCo's, bad combinations are refused in one sentence, the SSP stage is
reused, and every preset trains on digits-LT (test_method_presets) and MNIST-1D-LT."""
import math

import pytest
import torch

from ltcore import Config, train
from ltcore.data import DATASETS
from ltcore.errors import ConfigError
from ltcore.methods import check_params
from ltcore.methods.contrastive import MemoryQueue, MomentumEncoder
from ltcore.methods.ssp import nt_xent
from ltcore.methods.views import BCL_SIM, SIM, SLAUG, two_views

NEW = ["bcl", "kcl", "paco", "ssp"]
SMALL = {"kcl": {"kcl_queue": 256}, "paco": {"paco_queue": 256}}


def test_image_views_keep_each_sample_with_its_label():
    """Constant images at level y_i: a crop/flip view (KCL's `--slaug` recipe) of sample i is still
    level y_i, in the batch's order; a colour view with the loader's mean/std stays in [0, 1]
    pixel units (torchvision's ColorJitter clamps)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (64,), generator=gen)
    x = y.float()[:, None, None, None].expand(64, 3, 8, 8).contiguous()
    v1, v2, labels = two_views(x, y, gen, True, SLAUG)
    assert torch.equal(labels, y)
    for v in (v1, v2):
        assert v.shape == x.shape and v.dtype == x.dtype
        assert torch.equal(v.mean(dim=(1, 2, 3)).round().long(), y)
    real = torch.randn(64, 3, 16, 16, generator=gen)
    a, b, _ = two_views(real, y, gen)
    assert not torch.allclose(a, b) and not torch.allclose(a, real)  # two different random views
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    pixels = torch.rand(64, 3, 16, 16, generator=gen)
    for recipe in (SIM, BCL_SIM):
        v, _, _ = two_views((pixels - mean) / std, y, gen, True, recipe, mean, std)
        back = v * std + mean
        assert back.min() >= -1e-5 and back.max() <= 1 + 1e-5


def test_signal_views_keep_each_sample_with_its_label():
    gen = torch.Generator().manual_seed(1)
    y = torch.arange(1, 9).repeat(8)
    x = y.float()[:, None].expand(64, 40).contiguous()
    v1, v2, labels = two_views(x, y, gen)
    assert torch.equal(labels, y)
    for v in (v1, v2):
        ratio = v.mean(1) / y.float()
        assert ((ratio > 0.75) & (ratio < 1.25)).all()
    assert not torch.allclose(v1, v2)


def test_queue_wraps_round_robin_with_any_batch_size():
    q = MemoryQueue(5, 2, torch.zeros(5, 2), torch.full((5,), -1))
    q.push(torch.ones(3, 2), torch.tensor([0, 1, 2]))
    q.push(2 * torch.ones(3, 2), torch.tensor([3, 4, 5]))
    assert q.labels.tolist() == [5, 1, 2, 3, 4] and q.ptr == 1
    assert q.keys[0].tolist() == [2.0, 2.0] and q.keys[1].tolist() == [1.0, 1.0]


def test_momentum_encoder_moves_towards_the_query_side_without_gradients():
    query, head = torch.nn.Linear(3, 3), torch.nn.Linear(3, 2)
    key = MomentumEncoder(query, head, 0.9)
    with torch.no_grad():
        query.weight.add_(1.0)
    before = key.backbone.weight.clone()
    key.update(query, head)
    assert torch.allclose(key.backbone.weight, 0.9 * before + 0.1 * query.weight)
    assert not any(p.requires_grad for p in key.parameters())


def test_nt_xent_is_low_for_matching_views_and_high_for_shuffled_ones():
    z = torch.nn.functional.normalize(torch.randn(32, 16), dim=1)
    assert nt_xent(z, z, 0.1) < nt_xent(z, z[torch.randperm(32)], 0.1)


@pytest.mark.parametrize("params, words", [
    ({"classifier": "etf"}, "prototypes"),
    ({"mixing": "mixup"}, "un-mixed"),
])
def test_bad_bcl_combinations_are_refused_in_one_sentence(params, words):
    with pytest.raises(ConfigError, match=words):
        check_params("bcl", params)


def test_paco_refuses_another_loss():
    with pytest.raises(ConfigError, match="whole loss"):
        check_params("paco", {"loss": "focal"})


def test_rotation_pretext_on_vectors_is_a_clear_error():
    with pytest.raises(ConfigError, match="simclr"):
        train(Config(dataset="gaussians_hd", epochs=1, method="ssp", method_params={"ssp_task": "rotation"}))


@pytest.mark.slow
def test_ssp_stage_is_trained_once_and_reused(digits, quick, tmp_path):
    from ltcore import Trainer

    cfg = Config(**{**quick, "epochs": 1}, method="ssp", method_params={"ssp_epochs": 1})
    first = Trainer(cfg, data=digits, checkpoint_root=tmp_path).fit()
    assert first.extras["ssp"]["reused"] is False and first.extras["ssp"]["task"] == "rotation"
    other = cfg.replace(method_params=(("loss", "balanced_softmax"), ("ssp_epochs", 1)))
    second = Trainer(other, data=digits, checkpoint_root=tmp_path).fit()
    assert second.extras["ssp"]["reused"] is True
    assert second.extras["ssp"]["run_id"] == first.extras["ssp"]["run_id"]


@pytest.mark.slow
def test_vector_data_trains_with_signal_views():
    for name in ("bcl", "ssp"):
        result = train(Config(dataset="gaussians_hd", epochs=1, batch_size=64, method=name,
                              method_params={"bcl_dim": 32} if name == "bcl" else {}))
        assert result.status == "done", result.error
        assert all(math.isfinite(h["loss"]) for h in result.history)


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_new_presets_train_two_epochs_on_mnist1d(name):
    if "mnist1d" not in DATASETS.names():
        pytest.skip("the mnist1d data set has not landed yet")
    result = train(Config(dataset="mnist1d", ratio=50, epochs=2, batch_size=64, method=name,
                          method_params=SMALL.get(name, {})))
    assert result.status == "done", result.error
    assert len(result.history) == 2 and all(math.isfinite(h["loss"]) for h in result.history)
    assert 0 <= result.balanced_acc <= 1


@pytest.mark.slow
def test_kcl_trains_with_its_default_queue_on_mnist1d():
    """The authors' 65536-key queue is written in place after each batch; the batch's loss must
    still backpropagate through the queue as it was (this raised an autograd in-place error)."""
    if "mnist1d" not in DATASETS.names():
        pytest.skip("the mnist1d data set has not landed yet")
    result = train(Config(dataset="mnist1d", ratio=100, epochs=1, batch_size=128, method="kcl"))
    assert result.status == "done", result.error
    assert math.isfinite(result.history[-1]["loss"])
