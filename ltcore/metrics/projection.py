"""PCA projections of feature snapshots for 2-D/3-D plots: points, class means and classifier
directions in one coordinate system; an animation uses ONE basis (the last snapshot's) for all
frames, so the picture does not flip or rotate between epochs."""
from __future__ import annotations

import torch

from ..errors import LTError


def _tensor(x) -> torch.Tensor:
    return x.detach().double().cpu() if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)


def _centre(features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """μ_G = the unweighted mean of the class means (as in the NC metrics)."""
    classes = labels.unique()
    return torch.stack([features[labels == c].mean(0) for c in classes]).mean(0)


def pca_basis(features, labels, dim: int = 2) -> dict:
    """Top-`dim` principal directions of the features centred at μ_G, signs fixed (largest |entry| > 0)."""
    h, y = _tensor(features), torch.as_tensor(labels).long().cpu()
    if h.dim() != 2 or len(h) < 2:
        raise LTError("a PCA projection needs at least two feature vectors")
    if dim not in (2, 3) or dim > h.shape[1]:
        raise LTError(f"projection dimension must be 2 or 3 and ≤ the feature size {h.shape[1]}; got {dim}")
    centre = _centre(h, y)
    _, s, vt = torch.linalg.svd(h - centre, full_matrices=False)
    comps = vt[:dim]                                                  # dim×d
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    comps = comps * torch.where(signs == 0, torch.ones_like(signs), signs)
    var = s ** 2
    return {"components": comps, "explained_variance_ratio": (var[:dim] / var.sum().clamp(min=1e-300)).tolist()}


def project_snapshot(snapshot: dict, dim: int = 2, basis: dict | None = None) -> dict:
    """Project one snapshot ({epoch, features, labels, class_means, classifier}) onto `basis` (its
    own PCA when None). Each frame is centred on its own μ_G; classifier rows are directions, scaled
    so the longest arrow matches the farthest class mean (`classifier_scale`)."""
    h, y = _tensor(snapshot["features"]), torch.as_tensor(snapshot["labels"]).long()
    basis = basis or pca_basis(h, y, dim)
    comps = basis["components"]
    centre = _centre(h, y)
    means = snapshot.get("class_means")
    mean_rows = [None if m is None else ((_tensor(m) - centre) @ comps.T).tolist() for m in means] if means else None
    out = {"epoch": snapshot.get("epoch"), "points": ((h - centre) @ comps.T).tolist(),
           "labels": y.tolist(), "means": mean_rows, "classifier": None, "classifier_scale": None,
           "explained_variance_ratio": basis["explained_variance_ratio"]}
    if snapshot.get("classifier") is not None:
        w = _tensor(snapshot["classifier"]) @ comps.T                 # K×dim
        reach = max((sum(v * v for v in r) ** 0.5 for r in mean_rows or [] if r is not None), default=0.0)
        longest = float(w.norm(dim=1).max())
        scale = reach / longest if reach > 0 and longest > 0 else 1.0
        out["classifier"], out["classifier_scale"] = (w * scale).tolist(), scale
    return out


def project_snapshots(snapshots: list[dict], dim: int = 2) -> list[dict]:
    """Every snapshot projected on the last snapshot's PCA basis (a stable animation)."""
    if not snapshots:
        return []
    last = snapshots[-1]
    basis = pca_basis(last["features"], last["labels"], dim)
    return [project_snapshot(s, dim, basis) for s in snapshots]
