"""Neural-collapse metrics: exact simplex ETF, an independent NumPy computation from the reference
formulas (Papyan et al. PNAS'20), hand-worked values and degenerate inputs."""
import json
import math
import warnings

import numpy as np
import pytest
import torch

from ltcore.metrics import NCInputError, NCWarning, neural_collapse
from ltcore.metrics.neural_collapse import SCALARS


def simplex_etf(k: int, d: int, seed: int = 0) -> torch.Tensor:
    """K×d rows of M = √(K/(K−1)) P (I − 11ᵀ/K), P a d×K matrix with orthonormal columns."""
    g = torch.Generator().manual_seed(seed)
    p, _ = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=torch.float64))
    m = math.sqrt(k / (k - 1)) * p @ (torch.eye(k, dtype=torch.float64) - 1.0 / k)
    return m.T


def test_exact_etf_with_zero_spread_is_fully_collapsed():
    k, d = 4, 7
    etf = simplex_etf(k, d)
    # an offset orthogonal to the ETF span checks that μ_G is removed before NC2/NC3
    offset = torch.linalg.svd(etf, full_matrices=True).Vh[-1] * 5
    counts = [5, 3, 2, 2]
    labels = torch.repeat_interleave(torch.arange(k), torch.tensor(counts))
    features = 2.0 * etf[labels] + offset
    out = neural_collapse(features, labels, 3.0 * etf)           # self-dual up to scale
    for key in SCALARS:
        assert out[key] == pytest.approx(0.0, abs=1e-9), key
    assert out["nc4"] == 0.0
    assert out["mean_cosine"][0][1] == pytest.approx(-1 / (k - 1))
    assert out["mean_norms"] == pytest.approx([2.0] * k)
    assert out["weight_norms"] == pytest.approx([3.0] * k)
    assert out["warnings"] == []


def numpy_reference(h, y, w, b, k):
    """The reference formulas of methods.md, written directly in NumPy (float64)."""
    means = np.stack([h[y == c].mean(0) for c in range(k)])
    mu_g = means.mean(0)
    m = means - mu_g
    sw = sum(np.outer(h[i] - means[y[i]], h[i] - means[y[i]]) for i in range(len(y))) / len(y)
    sb = sum(np.outer(m[c], m[c]) for c in range(k)) / k
    off = ~np.eye(k, dtype=bool)
    mn, wn = np.linalg.norm(m, axis=1), np.linalg.norm(w, axis=1)
    cm = (m @ m.T) / np.outer(mn, mn)
    cw = (w @ w.T) / np.outer(wn, wn)
    gram = w @ w.T
    ncc = np.argmin(((h[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return {
        "nc1": np.trace(sw @ np.linalg.pinv(sb)) / k,
        "nc2_equinorm_means": mn.std(ddof=1) / mn.mean(),
        "nc2_equinorm_weights": wn.std(ddof=1) / wn.mean(),
        "nc2_equiangular": cm[off].std(ddof=1),
        "nc2_equiangular_weights": cw[off].std(ddof=1),
        "nc2_maxangle": np.abs(cm[off] + 1 / (k - 1)).mean(),
        "nc2_maxangle_weights": np.abs(cw[off] + 1 / (k - 1)).mean(),
        "nc2_etf_distance": np.linalg.norm(gram / np.linalg.norm(gram) - (np.eye(k) - 1 / k) / np.sqrt(k - 1)),
        "nc3": np.linalg.norm(w / np.linalg.norm(w) - m / np.linalg.norm(m)) ** 2,
        "nc4": np.mean(np.argmax(h @ w.T + b, 1) != ncc),
        "mean_norms": mn, "weight_norms": wn, "mean_cosine": cm, "weight_cosine": cw,
    }


@pytest.mark.parametrize("k,d", [(5, 8), (6, 3), (2, 4)])
def test_matches_independent_numpy(k, d):
    rng = np.random.default_rng(k * 10 + d)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(rng.integers(2, 30, size=k))])
    h = rng.normal(size=(k, d))[y] * 2 + rng.normal(size=(len(y), d)) + 3.0
    w, b = rng.normal(size=(k, d)), rng.normal(size=k)
    ref = numpy_reference(h, y, w, b, k)
    out = neural_collapse(torch.tensor(h), torch.tensor(y), torch.tensor(w), torch.tensor(b))
    for key in SCALARS:
        assert out[key] == pytest.approx(ref[key], abs=1e-6), key
    for key in ("mean_norms", "weight_norms"):
        np.testing.assert_allclose(out[key], ref[key], atol=1e-6)
    for key in ("mean_cosine", "weight_cosine"):
        np.testing.assert_allclose(np.array(out[key]), ref[key], atol=1e-6)
    json.dumps(out, allow_nan=False)


def test_float32_features_agree_with_float64():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 7, size=400)
    h = rng.normal(size=(7, 16))[y] * 3 + rng.normal(size=(400, 16))
    w = rng.normal(size=(7, 16))
    full = neural_collapse(torch.tensor(h), torch.tensor(y), torch.tensor(w))
    half = neural_collapse(torch.tensor(h, dtype=torch.float32), torch.tensor(y), torch.tensor(w, dtype=torch.float32))
    for key in SCALARS:
        assert half[key] == pytest.approx(full[key], rel=1e-4, abs=1e-5), key


def test_hand_worked_two_classes():
    # class 0: (3,0),(1,0) → μ0 = (2,0); class 1: (−1,0),(−3,0) → μ1 = (−2,0); μ_G = 0
    h = torch.tensor([[3.0, 0], [1, 0], [-1, 0], [-3, 0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1])
    w = torch.tensor([[1.0, 0], [0, 2]], dtype=torch.float64)
    out = neural_collapse(h, y, w, bias=torch.tensor([0.0, 1.5], dtype=torch.float64))
    # Σ_W = diag(1, 0), Σ_B = diag(4, 0), Σ_B⁺ = diag(1/4, 0): NC1 = (1/4)/2
    assert out["nc1"] == pytest.approx(0.125)
    # K = 2: centred means are ±(2,0): equal norms, cosine −1 = −1/(K−1)
    assert out["nc2_equinorm_means"] == 0 and out["nc2_equiangular"] == 0 and out["nc2_maxangle"] == 0
    # ‖w‖ = 1, 2: std 1/√2 over mean 1.5; rows orthogonal: cos 0 → |0 + 1| = 1
    assert out["nc2_equinorm_weights"] == pytest.approx(0.4714045)
    assert out["nc2_equiangular_weights"] == 0 and out["nc2_maxangle_weights"] == pytest.approx(1.0)
    # WWᵀ = diag(1,4)/√17 vs [[.5,−.5],[−.5,.5]]
    assert out["nc2_etf_distance"] == pytest.approx(0.8873117, abs=1e-6)
    # ‖diag(1,2)/√5 − [[2,0],[−2,0]]/√8‖² = 2 − 2/√10
    assert out["nc3"] == pytest.approx(1.3675445, abs=1e-6)
    # logits of (1,0) are [1, 1.5] → class 1, its nearest mean is class 0: 1 of 4 disagree
    assert out["nc4"] == 0.25
    assert out["mean_norms"] == [2.0, 2.0] and out["mean_cosine"] == [[1.0, -1.0], [-1.0, 1.0]]


def test_hand_worked_three_class_means():
    # centred means (2,0), (0,2), (−2,−2): norms 2, 2, 2√2; cosines 0, −1/√2, −1/√2
    h = torch.tensor([[2.0, 0], [0, 2], [-2, -2]], dtype=torch.float64)
    with pytest.warns(NCWarning, match="one sample"):
        out = neural_collapse(h, torch.tensor([0, 1, 2]), torch.eye(3, 2, dtype=torch.float64) + 0.5)
    assert out["nc1"] == 0
    assert out["nc2_equinorm_means"] == pytest.approx(0.2101330, abs=1e-6)
    assert out["nc2_equiangular"] == pytest.approx(0.3651484, abs=1e-6)
    assert out["nc2_maxangle"] == pytest.approx(0.3047379, abs=1e-6)


def test_single_sample_class_warns_but_is_finite():
    h = torch.randn(9, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2])
    with pytest.warns(NCWarning, match="one sample"):
        out = neural_collapse(h, y, torch.randn(3, 4, dtype=torch.float64))
    assert all(out[key] is not None and math.isfinite(out[key]) for key in SCALARS)


def test_missing_class_warns_and_is_left_out():
    h = torch.randn(8, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 2, 2, 2, 3, 3])
    w = torch.randn(4, 3, dtype=torch.float64)
    with pytest.warns(NCWarning, match=r"classes \[1\] have no samples"):
        out = neural_collapse(h, y, w)
    assert out["classes_used"] == 3 and out["num_classes"] == 4
    assert out["mean_norms"][1] is None and out["mean_cosine"][1] == [None] * 4
    assert out["mean_cosine"][0][1] is None and out["mean_cosine"][0][2] is not None
    assert len(out["weight_norms"]) == 4
    json.dumps(out, allow_nan=False)


def test_no_classifier_weight_gives_none_not_crash():
    h = torch.randn(6, 3, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    with pytest.warns(NCWarning, match="no classifier weight"):
        out = neural_collapse(h, y, None)
    assert out["nc3"] is None and out["nc2_etf_distance"] is None and out["nc4"] is None
    assert out["nc1"] is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NCWarning)
        given = neural_collapse(h, y, None, predictions=torch.tensor([0, 0, 1, 1, 2, 0]))
    assert given["nc4"] is not None


def test_coinciding_means_give_none_not_nan():
    h = torch.tensor([[1.0, 0], [-1, 0], [1, 0], [-1, 0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = neural_collapse(h, torch.tensor([0, 0, 1, 1]), torch.zeros(2, 2))
    assert any("coincide" in str(c.message) for c in caught)
    assert out["nc1"] is None and out["nc2_equinorm_means"] is None and out["nc3"] is None
    json.dumps(out, allow_nan=False)


@pytest.mark.parametrize("features,labels,weight,message", [
    (torch.randn(4, 3), torch.tensor([0, 0, 0, 0]), None, "at least two classes"),
    (torch.tensor([[float("nan"), 0.0], [1, 1]]), torch.tensor([0, 1]), None, "NaN"),
    (torch.randn(4, 3), torch.tensor([0, 1, 0, 1]), torch.randn(2, 5), "K×d"),
    (torch.randn(4, 3), torch.tensor([0, 1, 2, 1]), torch.randn(2, 3), "K×d|labels must lie"),
    (torch.randn(4, 3), torch.tensor([0, 1, 0]), None, "N×d"),
])
def test_bad_input_is_a_clear_error(features, labels, weight, message):
    with pytest.raises(NCInputError, match=message):
        neural_collapse(features, labels, weight)
