"""PCA projections: points, means and classifier in one frame; animations on one common basis."""
import math

import pytest
import torch

from ltcore.metrics import pca_basis, project_snapshot, project_snapshots


def snapshot(epoch, spread, seed, rotate=None):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[4.0, 0, 0, 0], [0, 2, 0, 0], [-4, -2, 0, 0]])
    y = torch.arange(3).repeat_interleave(20)
    h = centres[y] + spread * torch.randn(60, 4, generator=g)
    w = centres * 0.5
    if rotate is not None:
        h, w = h @ rotate, w @ rotate
    means = [h[y == c].mean(0).tolist() for c in range(3)]
    return {"epoch": epoch, "features": h.tolist(), "labels": y.tolist(), "class_means": means,
            "classifier": w.tolist()}


def test_hand_worked_pca_axes():
    # points on the x-axis (±3) and y-axis (±1): first PC is x, second y, variances 9 : 1
    pts = [[3.0, 0], [-3, 0], [0, 1], [0, -1]]
    basis = pca_basis(pts, [0, 1, 2, 3], dim=2)
    assert basis["components"].abs().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert basis["explained_variance_ratio"] == pytest.approx([0.9, 0.1])


def test_points_means_and_classifier_share_coordinates():
    snap = snapshot(1, 0.1, 0)
    out = project_snapshot(snap, dim=3)
    assert len(out["points"][0]) == 3 and len(out["means"]) == 3 and len(out["classifier"]) == 3
    # a class mean projects to the mean of its projected points
    first = torch.tensor(out["points"][:20]).mean(0)
    assert first.tolist() == pytest.approx(out["means"][0], abs=1e-5)
    # the classifier rows are w_k = μ_k/2 here: same direction as the means once scaled
    for mean, arrow in zip(out["means"], out["classifier"]):
        cos = sum(a * b for a, b in zip(mean, arrow)) / math.dist(mean, [0] * 3) / math.dist(arrow, [0] * 3)
        assert cos > 0.99
    longest = max(math.dist(a, [0] * 3) for a in out["classifier"])
    assert longest == pytest.approx(max(math.dist(m, [0] * 3) for m in out["means"]))


def test_animation_frames_use_the_last_snapshot_basis():
    angle = 0.7
    rot = torch.eye(4)
    rot[:2, :2] = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    early, last = snapshot(1, 1.5, 1, rotate=rot), snapshot(5, 0.1, 2)
    frames = project_snapshots([early, last], dim=2)
    assert [f["epoch"] for f in frames] == [1, 5]
    assert torch.allclose(torch.tensor(frames[1]["points"]), torch.tensor(project_snapshot(last)["points"]))
    # frame 0 is NOT its own PCA: it is the last frame's basis applied to its centred points
    basis = pca_basis(last["features"], last["labels"], 2)["components"].float()
    h = torch.tensor(early["features"])
    centre = torch.stack([h[torch.tensor(early["labels"]) == c].mean(0) for c in range(3)]).mean(0)
    expected = ((h - centre) @ basis.T)
    assert torch.allclose(torch.tensor(frames[0]["points"]).float(), expected, atol=1e-4)
    assert not torch.allclose(torch.tensor(frames[0]["points"]).float(),
                              torch.tensor(project_snapshot(early)["points"]).float(), atol=1e-2)
    assert frames[0]["explained_variance_ratio"] == frames[1]["explained_variance_ratio"]
