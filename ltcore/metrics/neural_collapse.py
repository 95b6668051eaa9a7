"""Neural-collapse metrics NC1–NC4 (Papyan, Han & Donoho PNAS'20, Fig. 6 and §3) on any device.

Conventions: μ_G is the unweighted mean of the K class means, as Papyan et al.'s notebook and the
code of Liu et al. AISTATS'23 (Pepper-lll/NCfeature) compute it (under imbalance a sample mean would
be pulled towards the head classes); Σ_W averages over all N samples, std is the unbiased estimator,
Σ_B⁺ is the Moore–Penrose pseudo-inverse.
One helper per quantity (nc1, nc2, nc3, nc4); `neural_collapse` checks the input and assembles them.
Tensors in, floats and lists out (None where a quantity is undefined, never NaN).
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from ..errors import LTError

SCALARS = ("nc1", "nc2_equinorm_means", "nc2_equinorm_weights", "nc2_equiangular",
           "nc2_equiangular_weights", "nc2_maxangle", "nc2_maxangle_weights", "nc2_etf_distance",
           "nc3", "nc4")


class NCInputError(LTError):
    """Features, labels and classifier do not fit together (or fewer than two classes are present)."""


class NCWarning(UserWarning):
    """A degenerate input (class missing, single-sample class, zero norms) gave a partial result."""


def _dtypes(features: torch.Tensor) -> tuple[torch.dtype, torch.dtype]:
    """(dtype of the N-sized work, dtype of the d×d and K×d algebra): float64 input stays float64;
    otherwise the N×d passes run in float32 (2× cheaper) and the small algebra in float64 (no MPS)."""
    small = torch.float32 if features.device.type == "mps" else torch.float64
    return (torch.float64 if features.dtype == torch.float64 else torch.float32), small


def class_means(features: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class means μ_k (K×d, zero rows for absent classes) and counts n_k (K,)."""
    counts = torch.bincount(labels, minlength=num_classes)
    sums = torch.zeros(num_classes, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, labels, features)
    return sums / counts.clamp(min=1).unsqueeze(1).to(features.dtype), counts


def _std_over_mean(x: torch.Tensor) -> float | None:
    """Coefficient of variation std(x)/mean(x) with the unbiased std (None when mean is 0)."""
    mean = x.mean()
    return float(x.std() / mean) if float(mean) > 0 and len(x) > 1 else None


def _off_diagonal(g: torch.Tensor) -> torch.Tensor:
    k = g.shape[0]
    return g[~torch.eye(k, dtype=torch.bool, device=g.device)]


def _cosines(rows: torch.Tensor) -> torch.Tensor:
    unit = F.normalize(rows, dim=1, eps=1e-12)
    return unit @ unit.T


def _equiangularity(cos: torch.Tensor) -> tuple[float, float]:
    """std over k≠j of cos (NC2 equiangular) and mean over k≠j of |cos + 1/(K−1)| (NC2 max-angle)."""
    k = cos.shape[0]
    off = _off_diagonal(cos)
    return float(off.std()), float((off + 1.0 / (k - 1)).abs().mean())


def etf_distance(weight: torch.Tensor) -> float:
    """‖WWᵀ/‖WWᵀ‖_F − (I − 11ᵀ/K)/√(K−1)‖_F: distance of the classifier to a simplex ETF."""
    k = weight.shape[0]
    gram = weight @ weight.T
    target = (torch.eye(k, dtype=gram.dtype, device=gram.device) - 1.0 / k) / math.sqrt(k - 1)
    return float(torch.linalg.matrix_norm(gram / torch.linalg.matrix_norm(gram) - target))


def _full_matrix(sub: torch.Tensor, present: torch.Tensor, k: int) -> list:
    """K×K list with the present classes' entries and None in rows/columns of absent classes."""
    idx = present.nonzero().flatten().tolist()
    out = [[None] * k for _ in range(k)]
    values = sub.tolist()
    for a, i in enumerate(idx):
        for b, j in enumerate(idx):
            out[i][j] = values[a][b]
    return out


def _check(features, labels, weight, bias, predictions, num_classes) -> int:
    if features.dim() != 2 or labels.dim() != 1 or len(features) != len(labels):
        raise NCInputError(f"features must be N×d and labels N; got {tuple(features.shape)} and {tuple(labels.shape)}")
    if len(labels) == 0:
        raise NCInputError("neural collapse needs at least one sample per class; got no samples")
    k = num_classes or (weight.shape[0] if weight is not None else int(labels.max()) + 1)
    if weight is not None and (weight.dim() != 2 or weight.shape != (k, features.shape[1])):
        raise NCInputError(f"classifier weight must be K×d = {k}×{features.shape[1]}; got {tuple(weight.shape)}")
    if bias is not None and bias.shape != (k,):
        raise NCInputError(f"classifier bias must have K = {k} entries; got {tuple(bias.shape)}")
    if int(labels.min()) < 0 or int(labels.max()) >= k:
        raise NCInputError(f"labels must lie in 0..{k - 1}")
    if predictions is not None and predictions.shape != labels.shape:
        raise NCInputError("predictions must have one entry per sample")
    return k


def nc1(sigma_w: torch.Tensor, m_tilde: torch.Tensor) -> float | None:
    """NC1 = Tr(Σ_W Σ_B⁺)/K over the K present classes, Σ_B = M̃ᵀM̃/K (Papyan et al. Fig. 6), as an
    element-wise sum; None when all class means coincide (Σ_B = 0)."""
    k_used = m_tilde.shape[0]
    sigma_b = m_tilde.T @ m_tilde / k_used                            # d×d
    if float(m_tilde.norm(dim=1).max()) <= 0:
        return None
    return float((sigma_w * torch.linalg.pinv(sigma_b, hermitian=True).T).sum()) / k_used


def nc2(rows: torch.Tensor) -> dict:
    """NC2 of K vectors (centred class means, or classifier rows): equinorm = std/mean of the norms,
    equiangular = std of the pairwise cosines, max-angle = mean |cos + 1/(K−1)|; with the norms and
    the cosine matrix themselves."""
    norms = rows.norm(dim=1)
    cos = _cosines(rows)
    equiangular, maxangle = _equiangularity(cos)
    return {"equinorm": _std_over_mean(norms), "equiangular": equiangular, "maxangle": maxangle,
            "norms": norms, "cosine": cos}


def nc3(weight: torch.Tensor, m_tilde: torch.Tensor) -> float:
    """NC3 = ‖W/‖W‖_F − M̃/‖M̃‖_F‖_F² (self-duality of classifier rows and centred means)."""
    return float(torch.linalg.matrix_norm(weight / torch.linalg.matrix_norm(weight)
                                          - m_tilde / torch.linalg.matrix_norm(m_tilde)) ** 2)


def nc4(h: torch.Tensor, means: torch.Tensor, present: torch.Tensor, predictions: torch.Tensor) -> float:
    """NC4 = fraction of samples whose prediction differs from the nearest class mean (Euclidean,
    present classes only)."""
    mu_w = means[present]                                             # K'×d in the work dtype
    dist = (mu_w * mu_w).sum(1) - 2 * h @ mu_w.T                      # N×K', ‖h−μ_k‖² − ‖h‖²
    ncc = present.nonzero().flatten()[dist.argmin(1)]
    return float((predictions.to(ncc.device).long() != ncc).double().mean())


def neural_collapse(features: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None,
                    bias: torch.Tensor | None = None, predictions: torch.Tensor | None = None,
                    num_classes: int | None = None) -> dict:
    """NC1–NC4 of penultimate features h (N×d) with labels y and classifier W (K×d), b (K,).

    NC1 = Tr(Σ_W Σ_B⁺)/K; NC2 equinorm/equiangular/max-angle for centred means M̃ and rows of W,
    ETF distance of W; NC3 = ‖W/‖W‖_F − M̃/‖M̃‖_F‖_F²; NC4 = fraction where the network's prediction
    (`predictions`, else argmax hWᵀ + b) differs from the nearest class mean. Absent classes are
    left out of the feature-based terms with an NCWarning; W-only terms use all K rows.
    """
    k = _check(features, labels, weight, bias, predictions, num_classes)
    work, dtype = _dtypes(features)
    h = features.detach().to(work)                                    # N×d
    y = labels.detach().to(features.device).long()                    # N
    notes = []
    means, counts = class_means(h, y, k)                              # K×d, K
    if not bool(torch.isfinite(means).all()):                         # NaN/inf in any h reaches its mean
        raise NCInputError("features contain NaN/inf (did training diverge?)")
    present = counts > 0
    k_used = int(present.sum())
    if k_used < 2:
        raise NCInputError(f"neural collapse needs samples of at least two classes; got {k_used}")
    if k_used < k:
        missing = (~present).nonzero().flatten().tolist()
        notes.append(f"classes {missing} have no samples: NC1–NC4 use the other {k_used} classes")
    singles = ((counts == 1).nonzero().flatten()).tolist()
    if singles:
        notes.append(f"classes {singles} have one sample: their within-class variability is 0")

    within = h - means[y]                                             # N×d
    sigma_w = (within.T @ within).to(dtype) / len(y)                  # d×d
    mu = means[present].to(dtype)                                     # K'×d
    m_tilde = mu - mu.mean(0)                                         # K'×d means centred on μ_G
    geometry = nc2(m_tilde)
    out = {"num_classes": k, "classes_used": k_used, "samples": len(y), "nc1": nc1(sigma_w, m_tilde),
           "nc2_equinorm_means": geometry["equinorm"], "nc2_equiangular": geometry["equiangular"],
           "nc2_maxangle": geometry["maxangle"]}

    if predictions is None and weight is not None:
        logits = h @ weight.detach().to(h).T + (bias.detach().to(h) if bias is not None else 0)
        predictions = logits.argmax(1)                                # N
    out["nc4"] = nc4(h, means, present, predictions) if predictions is not None else None

    norms_full = torch.zeros(k, dtype=dtype, device=h.device)
    norms_full[present] = geometry["norms"]
    out["mean_norms"] = [float(v) if p else None for v, p in zip(norms_full.tolist(), present.tolist())]
    out["mean_cosine"] = _full_matrix(geometry["cosine"], present, k)
    if weight is not None:
        w = weight.detach().to(device=h.device, dtype=dtype)         # K×d
        rows = nc2(w)
        out.update({
            "nc2_equinorm_weights": rows["equinorm"], "nc2_equiangular_weights": rows["equiangular"],
            "nc2_maxangle_weights": rows["maxangle"], "nc2_etf_distance": etf_distance(w),
            "nc3": nc3(w[present], m_tilde),
            "weight_norms": rows["norms"].tolist(), "weight_cosine": rows["cosine"].tolist()})
        if float(rows["norms"].min()) == 0:
            notes.append("some classifier rows are zero: their cosines are 0 by convention")
    else:
        notes.append("no classifier weight: weight-based NC2 terms and NC3 are None")
        out.update({key: None for key in ("nc2_equinorm_weights", "nc2_equiangular_weights",
                                          "nc2_maxangle_weights", "nc2_etf_distance", "nc3",
                                          "weight_norms", "weight_cosine")})
    if out["nc2_equinorm_means"] is None:
        notes.append("all class means coincide: NC1 and NC2 equinorm of the means are undefined (None)")
    undefined = [key for key in SCALARS if out[key] is not None and not math.isfinite(out[key])]
    if undefined:                                                     # e.g. a zero classifier: 0/0
        notes.append(f"{', '.join(undefined)} undefined for this input (None)")
        out.update({key: None for key in undefined})
    for note in notes:
        warnings.warn(note, NCWarning, stacklevel=2)
    out["warnings"] = notes
    return out
