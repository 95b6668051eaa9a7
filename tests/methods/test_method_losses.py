"""Losses: the paper identities and hand-computed values.

Fixed example: logits z₁ = [2, 0, −1] (y = 0), z₂ = [0.5, 1.5, 0] (y = 2), counts n = [100, 10, 1].
CE: ℓ₁ = log(1 + e⁻² + e⁻³) = 0.169846, ℓ₂ = −0 + log(e^0.5 + e^1.5 + 1) = 1.964369.
"""
import pytest
import torch

from ltcore.errors import ConfigError
from ltcore.methods import LOSSES, build_loss
from ltcore.methods.losses import class_balanced_weights, inverse_frequency_weights, inverse_prior, ldam_margins
from ltcore.methods.schedules import drw_start

Z = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
Y = torch.tensor([0, 2])
N = [100, 10, 1]
L1, L2 = 0.169846, 1.964369


def loss(name, **params):
    return float(build_loss(name, N, **params)(Z, Y))


def test_cross_entropy_by_hand():
    assert loss("ce") == pytest.approx((L1 + L2) / 2, abs=1e-5)


def test_inverse_frequency_weights_sum_to_k_and_weight_the_mean():
    # w ∝ 1/n = [0.01, 0.1, 1] → ×3/1.11 = [0.027027, 0.270270, 2.702703]
    assert inverse_frequency_weights(N).tolist() == pytest.approx([0.027027, 0.270270, 2.702703], abs=1e-5)
    # Σ w_y ℓ / Σ w_y = (0.027027·ℓ₁ + 2.702703·ℓ₂) / (0.027027 + 2.702703)
    assert loss("inv_ce") == pytest.approx(1.946601, abs=1e-5)


def test_class_balanced_weights_by_hand():
    # β = 0.9: (1−β)/(1−β^n) = [0.1000027, 0.153534, 1.0], normalised to Σ = 3
    assert class_balanced_weights(N, 0.9).tolist() == pytest.approx([0.239329, 0.367442, 2.393229], abs=1e-5)
    assert loss("cb_ce", beta=0.9) == pytest.approx(1.801226, abs=1e-5)


def test_focal_by_hand():
    # (1 − p)^γ ℓ with p = e^−ℓ, γ = 2: [0.0041443, 1.4520216]
    assert loss("focal", gamma=2.0) == pytest.approx(0.728083, abs=1e-5)
    # sigmoid focal (Cui et al.): Σ_k (1 − p_t)^γ BCE per sample = [0.197748, 1.687971] with
    # p = σ(z); × w_y = [0.239329, 2.393229], summed and divided by B = 2 (not by Σ w)
    assert loss("cb_focal", gamma=2.0, beta=0.9) == pytest.approx(2.043514, abs=1e-5)


def test_ldam_margins_and_loss_by_hand():
    # n = [1, 16, 81] → n^-1/4 = [1, 1/2, 1/3]; C = 0.5 → Δ = [0.5, 0.25, 0.1667]
    assert ldam_margins([1, 16, 81], 0.5).tolist() == pytest.approx([0.5, 0.25, 1 / 6], abs=1e-6)
    # cos logits [0.8, 0.1, −0.3], y = 1: s·(z − Δ_y e_y) = 2·[0.8, −0.15, −0.3] → CE = 2.131407
    ldam = build_loss("ldam", [1, 16, 81], max_margin=0.5, scale=2.0)
    assert float(ldam(torch.tensor([[0.8, 0.1, -0.3]]), torch.tensor([1]))) == pytest.approx(2.131407, abs=1e-5)


def test_logit_adjusted_loss_by_hand():
    # CE on z + τ log π, π = n/111
    assert loss("la", tau=1.0) == pytest.approx(2.682159, abs=1e-5)
    assert loss("la", tau=0.5) == pytest.approx(1.750855, abs=1e-5)


def test_balanced_softmax_by_hand():
    assert loss("balanced_softmax") == pytest.approx(2.682159, abs=1e-5)


def test_dot_regression_by_hand():
    # ½ (z_y − 1)² with z_y = 0.6 and −0.2 → ½·(0.16 + 1.44)/2 = 0.4
    z = torch.tensor([[0.6, 0.3, 0.1], [0.9, 0.0, -0.2]])
    assert float(build_loss("dot_regression", N)(z, Y)) == pytest.approx(0.4, abs=1e-6)
    # GivenEw: y = [0, 0, 2], γ = B/classes present = 3/2; weights γ/n_y = [0.75, 0.75, 1.5]
    z3 = torch.tensor([[0.6, 0.3, 0.1], [1.0, 0.0, 0.0], [0.9, 0.0, -0.2]])
    expect = (0.75 * 0.5 * 0.16 + 0 + 1.5 * 0.5 * 1.44) / 3
    assert float(build_loss("dot_regression", N)(z3, torch.tensor([0, 0, 2]))) == pytest.approx(expect, abs=1e-6)


def test_sade_diverse_expert_loss_by_hand():
    # π̄ gives the most frequent class the smallest prior: [1, 10, 100]/111
    assert inverse_prior(N).tolist() == pytest.approx([1 / 111, 10 / 111, 100 / 111], rel=1e-5)
    experts = torch.tensor([[[2.0, 0.0, -1.0]], [[1.0, 0.5, 0.0]], [[0.0, 0.0, 1.0]]])  # (3, B=1, K)
    # CE(z¹) + CE(z² + log π) + CE(z³ + log π − 2 log π̄), y = 2
    assert float(build_loss("sade", N, sade_tau=2.0)(experts, torch.tensor([2]))) == pytest.approx(21.653876, abs=1e-4)


@pytest.mark.parametrize("name,params", [("focal", {"gamma": 0.0}), ("cb_ce", {"beta": 0.0}),
                                         ("la", {"tau": 0.0})])
def test_identities_with_cross_entropy(name, params):
    z = torch.randn(32, 5, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 5, (32,), generator=torch.Generator().manual_seed(1))
    counts = [50, 20, 10, 5, 2]
    ce = build_loss("ce", counts)(z, y)
    assert torch.allclose(build_loss(name, counts, **params)(z, y), ce, atol=1e-6)


def test_cb_focal_without_weights_and_focusing_is_the_summed_sigmoid_cross_entropy():
    z = torch.randn(32, 5, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 5, (32,), generator=torch.Generator().manual_seed(1))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.nn.functional.one_hot(y, 5).float(),
                                                               reduction="sum") / 32
    assert torch.allclose(build_loss("cb_focal", [50, 20, 10, 5, 2], beta=0.0, gamma=0.0)(z, y), bce, atol=1e-6)


def test_la_loss_tau_one_is_balanced_softmax():
    z = torch.randn(32, 5, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 5, (32,), generator=torch.Generator().manual_seed(1))
    counts = [50, 20, 10, 5, 2]
    assert torch.allclose(build_loss("la", counts, tau=1.0)(z, y), build_loss("balanced_softmax", counts)(z, y),
                          atol=1e-6)


def test_mixed_loss_with_lambda_one_is_the_plain_loss():
    ce = build_loss("ce", N)
    assert float(ce.mixed(Z, Y, torch.tensor([1, 1]), torch.ones(2))) == pytest.approx(float(ce(Z, Y)))
    # λ = 0.25 on both: 0.25·CE(z, y) + 0.75·CE(z, [1, 1])
    l_b = [2.169846, 0.464369]  # −z_1 + logsumexp: 2 + 0.169846, −1.5 + 1.964369
    expect = (0.25 * (L1 + L2) + 0.75 * sum(l_b)) / 2
    assert float(ce.mixed(Z, Y, torch.tensor([1, 1]), torch.full((2,), 0.25))) == pytest.approx(expect, abs=1e-5)


def test_drw_start_defaults_to_the_papers_fraction():
    assert drw_start(None, 200) == 160  # Cao et al.: epoch 160 of 200
    assert drw_start(None, 30) == 24
    assert drw_start(5, 30) == 5


def test_every_loss_is_registered_with_a_description_and_paper():
    for entry in LOSSES.entries():
        assert entry.description and entry.meta.get("paper")


def test_unknown_loss_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match="gamma"):
        build_loss("ce", N, gamma=2.0)
