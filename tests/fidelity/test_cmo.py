"""CMO (Park et al. CVPR'22) against a short transcription of the authors' code, on identical inputs.

Transcribed from github.com/naver-ai/cmo (commit 10d2d09):
  cifar_train.py L279-311 (`train`: the epoch window, the per-batch probability, the paste and the
  area-adjusted λ), L370-382 (`rand_bbox_withcenter`, i.e. `rand_bbox` L351-367 with the uniform
  centre given), imbalance_data/imbalance_cifar.py L89-98 (`get_weighted_sampler`), losses.py
  L61-71 (`BalancedSoftmaxLoss`).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ltcore import Config, train
from ltcore.errors import ConfigError
from ltcore.methods.cmo import CMO, cutmix_box, paste_box
from ltcore.methods.losses import build_loss
from ltcore.engine.trainer import prepare_data


# --- the authors' code, transcribed --------------------------------------------------------------
def authors_rand_bbox_withcenter(size, lam, cx, cy):            # cifar_train.py L370-382
    W = size[2]
    H = size[3]
    cut_rat = np.sqrt(1. - lam)
    cut_w = int(W * cut_rat)
    cut_h = int(H * cut_rat)
    bbx1 = np.clip(cx - cut_w // 2, 0, W)
    bby1 = np.clip(cy - cut_h // 2, 0, H)
    bbx2 = np.clip(cx + cut_w // 2, 0, W)
    bby2 = np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def authors_cmo_batch(input, input2, lam, cx, cy):              # cifar_train.py L304-308
    input = input.clone()
    bbx1, bby1, bbx2, bby2 = authors_rand_bbox_withcenter(input.size(), lam, cx, cy)
    input[:, :, bbx1:bbx2, bby1:bby2] = input2[:, :, bbx1:bbx2, bby1:bby2]
    lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (input.size()[-1] * input.size()[-2]))
    return input, lam


def authors_window(epoch, epochs, start_data_aug=3, end_data_aug=3):   # cifar_train.py L279
    return start_data_aug < epoch < (epochs - end_data_aug)


def authors_sample_weights(targets, cls_num_list, weighted_alpha):   # imbalance_cifar.py L89-96
    cls_weight = 1.0 / (np.array(cls_num_list) ** weighted_alpha)
    cls_weight = cls_weight / np.sum(cls_weight) * len(cls_num_list)
    return np.array([cls_weight[t] for t in targets])


def authors_balanced_softmax(logits, labels, cls_num_list):      # losses.py L61-71
    cls_prior = cls_num_list / sum(cls_num_list)
    log_prior = torch.log(cls_prior).unsqueeze(0)
    return F.cross_entropy(logits + log_prior, labels)


# --- comparisons -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3, 32, 32), (3, 1, 8, 8), (2, 3, 7, 12)])
def test_box_paste_and_area_label_match_the_authors_on_identical_draws(shape):
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, x2 = torch.rand(shape), torch.rand(shape)
        lam = float(rng.beta(1.0, 1.0))
        cx, cy = int(rng.integers(shape[2])), int(rng.integers(shape[3]))  # authors: cx over size[2]
        want_x, want_lam = authors_cmo_batch(x, x2, lam, cx, cy)
        box = cutmix_box(shape[2], shape[3], lam, cx, cy)
        got_x, got_lam = paste_box(x, x2, box)
        assert torch.equal(got_x, want_x)
        assert got_lam == pytest.approx(want_lam, abs=1e-12)


class FakeData:
    """What CMO reads of the training data: x, y and prepare(x, train)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def prepare(self, xb, train):
        return xb.float()


class FakeContext:
    def __init__(self, data, epochs):
        self.train_batches = data

        class Cfg:
            pass
        self.config = Cfg()
        self.config.epochs = epochs


def test_the_mixer_gates_draws_and_mixes_in_the_authors_order():
    """r < prob, then λ ~ Beta(β, β), then the centre: replayed on the same generator the mixer
    got, the transcription gives the same image, labels and λ (minority batch fixed)."""
    torch.manual_seed(0)
    x, y = torch.rand(6, 3, 10, 10), torch.tensor([0, 0, 0, 1, 1, 2])
    mixer = CMO([3, 2, 1], cmo_prob=0.5, cmo_beta=1.0, cmo_start=-1, cmo_end=0)
    mixer.prepare(FakeContext(FakeData(x, y), 5), torch.arange(6))
    mixer.on_epoch_start(0)
    x2, y2 = torch.rand(6, 3, 10, 10), torch.tensor([2, 2, 1, 2, 1, 2])
    mixer.minority_batch = lambda size, gen: (x2[:size], y2[:size])
    rng, replay = np.random.default_rng(7), np.random.default_rng(7)
    mixed_batches = 0
    for _ in range(200):
        got = mixer(x, y, None, rng)
        r = replay.random()
        if r >= 0.5:
            assert got is None
            continue
        lam = replay.beta(1.0, 1.0)
        cx, cy = int(replay.integers(10)), int(replay.integers(10))
        want_x, want_lam = authors_cmo_batch(x, x2, lam, cx, cy)
        x_t, y_a, y_b, lam_t = got
        assert torch.equal(x_t, want_x) and torch.equal(y_a, y) and torch.equal(y_b, y2)
        assert torch.allclose(lam_t, torch.full((6,), want_lam, dtype=lam_t.dtype))
        mixed_batches += 1
    assert 70 < mixed_batches < 130                                 # p = 0.5 of 200 batches


def test_cmo_is_on_only_in_the_authors_epoch_window():
    mixer = CMO([5, 1])
    mixer.prepare(FakeContext(FakeData(torch.rand(6, 1, 4, 4), torch.tensor([0] * 5 + [1])), 200),
                  torch.arange(6))
    for epoch in range(200):
        mixer.on_epoch_start(epoch)
        assert mixer.active == authors_window(epoch, 200), epoch
    assert sum(authors_window(e, 200) for e in range(200)) == 193      # epochs 4..196


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
def test_minority_draws_follow_the_authors_weighted_sampler(alpha):
    counts = [50, 20, 8, 2]
    y = torch.repeat_interleave(torch.arange(4), torch.tensor(counts))
    mixer = CMO(counts, cmo_weight_alpha=alpha)
    mixer.prepare(FakeContext(FakeData(torch.rand(len(y), 1, 4, 4), y), 10), torch.arange(len(y)))
    gen = torch.Generator().manual_seed(0)
    drawn = torch.cat([mixer.minority_batch(1000, gen)[1] for _ in range(60)])
    w = authors_sample_weights(y.tolist(), counts, alpha)
    want = np.array([w[y.numpy() == k].sum() for k in range(4)]) / w.sum()
    got = torch.bincount(drawn, minlength=4).double().numpy() / len(drawn)
    assert np.abs(got - want).max() < 0.01, (got, want)


def test_the_area_mixed_loss_is_the_authors_two_term_loss():
    counts = [40, 10, 3]
    loss = build_loss("balanced_softmax", counts)
    torch.manual_seed(1)
    z, y, y2 = torch.randn(16, 3), torch.randint(0, 3, (16,)), torch.randint(0, 3, (16,))
    lam = 0.3
    want = (authors_balanced_softmax(z, y, torch.tensor(counts, dtype=torch.float)) * lam
            + authors_balanced_softmax(z, y2, torch.tensor(counts, dtype=torch.float)) * (1. - lam))
    got = loss.mixed(z, y, y2, torch.full((16,), lam))
    assert got.item() == pytest.approx(want.item(), rel=1e-5)


def test_cmo_trains_two_epochs_on_digits_and_really_mixes(monkeypatch):
    calls = []
    original = CMO.__call__

    def counting(self, x, y, gen, rng):
        out = original(self, x, y, gen, rng)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(CMO, "__call__", counting)
    data = prepare_data(Config(dataset="digits", ratio=50, seed=0))
    config = Config(dataset="digits", ratio=50, epochs=2, batch_size=64, method="cmo",
                    method_params={"cmo_start": -1, "cmo_end": 0})
    result = train(config, data=data)
    assert result.status == "done", result.error
    assert len(result.history) == 2 and all(math.isfinite(h["loss"]) for h in result.history)
    assert result.extras["method_slots"]["mixing"] == "cmo"
    assert any(calls) and not all(calls)                          # about half the batches mixed


def test_cmo_on_vector_data_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="mixing 'cmo' works on images"):
        Config(dataset="gaussians", method="cmo").validate()
