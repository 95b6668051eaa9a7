"""Classifiers, mixing, post-hoc adjustment and the NC regularisers against their formulas."""
import math

import numpy as np
import pytest
import torch

from ltcore.methods import CLASSIFIERS
from ltcore.methods.classifiers import NCMClassifier, ncm_centroids, tau_normalize
from ltcore.methods.mixing import Remix, remix_label_weights
from ltcore.methods.regularizers import NCRegularizer, nc1_loss, nc2_loss, nc2_loss_min_angle
from ltcore.methods.schedules import logit_adjustment


def test_etf_classifier_is_fixed_and_has_the_simplex_gram_matrix():
    k = 10
    etf = CLASSIFIERS.get("etf").obj(64, k)
    m = etf.etf
    assert not m.requires_grad and all(p is not m for p in etf.parameters())
    expect = k / (k - 1) * (torch.eye(k) - torch.ones(k, k) / k)  # MᵀM of a simplex ETF
    assert torch.allclose(m.t() @ m, expect, atol=1e-5)
    assert torch.allclose(m.norm(dim=0), torch.ones(k), atol=1e-5)  # unit-norm class vectors
    cos = (m.t() @ m)[~torch.eye(k, dtype=torch.bool)]
    assert torch.allclose(cos, torch.full_like(cos, -1 / (k - 1)), atol=1e-5)


def test_etf_logits_are_cosines_to_fixed_vectors():
    etf = CLASSIFIERS.get("etf").obj(16, 4).eval()
    z = etf(torch.randn(8, 16))
    assert z.abs().max() <= 1 + 1e-5  # unit feature · unit class vector


def test_etf_gets_a_learned_projection_when_features_are_narrower_than_k():
    etf = CLASSIFIERS.get("etf").obj(8, 20)
    assert etf.etf.shape == (20, 20)
    assert sum(p.numel() for p in etf.project.parameters()) == 8 * 20 + 20


def test_cosine_classifier_gives_scaled_cosines():
    head = CLASSIFIERS.get("cosine").obj(3, 2, cos_scale=16.0)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))
    z = head(torch.tensor([[3.0, 3.0, 0.0]]))
    assert z.tolist()[0] == pytest.approx([16 / math.sqrt(2), 16 / math.sqrt(2)], abs=1e-5)


def test_tau_normalisation_identity_and_unit_rows():
    w = torch.tensor([[3.0, 4.0], [0.6, 0.8]])
    assert torch.equal(tau_normalize(w, 0.0), w)
    assert tau_normalize(w, 1.0).norm(dim=1).tolist() == pytest.approx([1.0, 1.0])
    # τ = 0.5: w / ‖w‖^½ → norms 5/√5 = √5 and 1/1 = 1
    assert tau_normalize(w, 0.5).norm(dim=1).tolist() == pytest.approx([math.sqrt(5), 1.0])


def test_ncm_centres_normalises_and_predicts_the_nearest_mean_by_squared_distance():
    h = torch.tensor([[2.0, 0.0], [4.0, 1.0], [0.0, 3.0], [1.0, 5.0]])
    y = torch.tensor([0, 0, 1, 1])
    mean, cents = ncm_centroids(h, y, 2)
    assert mean.tolist() == pytest.approx([1.75, 2.25])
    # centred: [0.25, −2.25], [2.25, −1.25] → unit vectors averaged, not re-normalised
    u1 = torch.tensor([0.25, -2.25]) / math.hypot(0.25, 2.25)
    u2 = torch.tensor([2.25, -1.25]) / math.hypot(2.25, 1.25)
    assert cents[0].tolist() == pytest.approx(((u1 + u2) / 2).tolist(), abs=1e-6)
    assert float(cents[0].norm()) < 0.99
    ncm = NCMClassifier(mean, cents)
    q = torch.tensor([[3.0, 0.0], [0.5, 4.0], [1.75, 3.0]])
    unit = torch.nn.functional.normalize(q - mean, dim=1)
    dist = torch.cdist(unit, cents).pow(2)
    assert torch.allclose(ncm(q), -dist, atol=1e-5)
    assert ncm(q).argmax(1).tolist() == [0, 1, 1]


def test_post_hoc_logit_adjustment_identity_and_value():
    z = torch.tensor([[2.0, 0.0, -1.0]])
    assert torch.equal(logit_adjustment([100, 10, 1], 0.0)(z), z)
    # z − log π with π = n/111: [2.104360, 2.406945, 3.709530] → the tail class wins
    adjusted = logit_adjustment([100, 10, 1], 1.0)(z)
    assert adjusted.tolist()[0] == pytest.approx([2.104360, 2.406945, 3.709530], abs=1e-5)


def test_remix_gives_the_label_to_the_minority_class():
    n_a, n_b = torch.tensor([100.0, 10.0, 100.0, 10.0]), torch.tensor([10.0, 100.0, 50.0, 100.0])
    # κ = 3, τ = 0.5: ratio 10 ≥ κ and λ = 0.3 < τ → 0 (label of b); ratio 0.1 but 1−λ = 0.7 ≥ τ → λ;
    # ratio 2 < κ → λ
    assert remix_label_weights(n_a, n_b, 0.3, 3.0, 0.5).tolist()[:3] == pytest.approx([0.0, 0.3, 0.3])
    # λ = 0.8: ratio 0.1 ≤ 1/κ and 1 − λ = 0.2 < τ → 1 (label of a, the minority)
    assert remix_label_weights(n_a, n_b, 0.8, 3.0, 0.5).tolist()[1] == pytest.approx(1.0)


def test_remix_mixes_inputs_with_one_lambda_per_batch():
    remix = Remix([100, 10], alpha=1.0)
    x = torch.stack([torch.zeros(3), torch.ones(3)])
    y = torch.tensor([0, 1])
    x_mix, y_a, y_b, lam_y = remix(x, y, torch.Generator().manual_seed(0), np.random.default_rng(0))
    lam = float(np.random.default_rng(0).beta(1.0, 1.0))
    perm = y_b  # labels equal indices here
    assert torch.allclose(x_mix, lam * x + (1 - lam) * x[perm])
    assert torch.equal(y_a, y)


def test_nc1_loss_by_hand():
    h = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([0, 0, 1])
    means = torch.tensor([[2.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    # class 0: (1 + 1)/2 = 1, class 1: 4/1 = 4, class 2 absent: 0 → (1 + 4 + 0)/3
    assert float(nc1_loss(h, y, means)) == pytest.approx(5 / 3)


def test_nc2_loss_by_hand():
    means = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # centred by [0, 1/3]; the largest pairwise cosine is −0.316228 → −arccos(−0.316228)
    assert float(nc2_loss(means)) == pytest.approx(-1.892547, abs=1e-5)


def test_nc2_default_averages_each_class_smallest_angle():
    means = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.8, 0.6]])
    m = torch.nn.functional.normalize(means - means.mean(0), dim=1)
    cos = m @ m.t() - 2 * torch.eye(5)
    per_class = torch.arccos(cos.max(1).values)
    assert float(nc2_loss(means)) == pytest.approx(-float(per_class.mean()), abs=1e-5)
    assert float(nc2_loss_min_angle(means)) == pytest.approx(-float(per_class.min()), abs=1e-5)
    assert float(nc2_loss(means)) < float(nc2_loss_min_angle(means))


def test_nc_means_have_their_own_optimiser_with_gradient_scaled_by_one_over_lambda1():
    reg = NCRegularizer(2, 2, "cpu", lambda1=0.01, lambda2=0.0, means_lr=0.5)
    start = reg.means.detach().clone()
    h, y = torch.tensor([[1.0, 1.0]]), torch.tensor([0])
    reg(h, y).backward()
    reg.step()
    # d(λ1·NC1)/dμ_0 = λ1·(1/K)·2(μ_0 − h); ×1/λ1 → (μ_0 − h); SGD lr 0.5
    expect = start[0] - 0.5 * (start[0] - h[0])
    assert reg.means[0].tolist() == pytest.approx(expect.tolist(), abs=1e-6)
    assert torch.equal(reg.means[1].detach(), start[1]) and reg.means.grad is None


def test_nc_start_leaves_the_first_epochs_to_plain_cross_entropy(digits, quick):
    """`nc_start` = s: epochs 0…s−1 train exactly as `ce` (same weights); from s on the NC terms act."""
    from ltcore import Config, Trainer

    def weights(method, **params):
        trainer = Trainer(Config(**quick, method=method, method_params=params), data=digits,
                          save_checkpoints=False)
        trainer.fit()
        return torch.cat([p.detach().flatten() for p in trainer.model.parameters()]), trainer.method

    ce, _ = weights("ce")
    never, late = weights("nc_reg", nc_start=quick["epochs"])
    second, from_second = weights("nc_reg", nc_start=1)
    assert torch.equal(never, ce) and late.regularizer.last == {}
    assert not torch.equal(second, ce) and set(from_second.regularizer.last) == {"nc1", "nc2"}
