"""NC tracking during a real (tiny) digits run: history per tracked epoch, snapshots, final geometry."""
import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ltcore import Config, Trainer
from ltcore.metrics import project_snapshots
from ltcore.metrics.neural_collapse import SCALARS
from ltcore.metrics.tracking import balanced_points, classifier_params, stratified_subsample


@pytest.fixture(scope="module")
def tracked():
    return Trainer(Config(epochs=3, nc_every=1, snapshot_epochs=(2,), schedule="constant", device="cpu")).fit()


class WrappedHead(nn.Module):
    """A custom classifier without a `.weight` attribute (like a head from the methods zoo)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, h):
        return self.inner(h)


def test_history_has_one_entry_per_tracked_epoch(tracked):
    history = tracked.extras["nc_history"]
    assert [e["epoch"] for e in history] == [1, 2, 3]
    assert all(isinstance(e["nc1"], float) and 0 <= e["nc4"] <= 1 for e in history)
    assert tracked.history[-1]["nc1"] == history[-1]["nc1"]          # the live epoch row carries NC too
    final = tracked.extras["neural_collapse"]
    assert final["nc1"] == history[-1]["nc1"] and len(final["mean_cosine"]) == 10
    assert final["samples"] == sum(tracked.class_counts)              # digits-LT is below the 2000 cap


def test_snapshots_are_small_fixed_and_projectable(tracked):
    snaps = tracked.extras["snapshots"]
    assert [s["epoch"] for s in snaps] == [2, 3]
    assert snaps[0]["labels"] == snaps[1]["labels"]                   # the same fixed points each time
    assert 0 < len(snaps[0]["features"]) <= 500 and len(snaps[0]["class_means"]) == 10
    assert len(snaps[1]["classifier"]) == 10
    frames = project_snapshots(snaps, dim=3)
    assert len(frames) == 2 and len(frames[0]["points"][0]) == 3


def test_minority_view_and_json(tracked):
    mc = tracked.extras["minority_collapse"]
    assert mc["counts_sorted"] == sorted(tracked.class_counts, reverse=True)
    assert len(mc["tail"]) == 5 and len(mc["tail_cosine"]) == 5
    json.dumps(tracked.to_dict(), allow_nan=False)


def test_end_only_tracking_with_a_head_without_weight(tracked):
    trainer = Trainer(Config(epochs=2, schedule="constant", device="cpu"))
    trainer.model.classifier = WrappedHead(trainer.model.classifier)
    result = trainer.fit()
    assert [e["epoch"] for e in result.extras["nc_history"]] == [2]
    assert [s["epoch"] for s in result.extras["snapshots"]] == [2]
    nc = result.extras["neural_collapse"]
    assert nc["nc3"] is None and nc["nc2_etf_distance"] is None
    assert nc["nc1"] is not None and nc["nc4"] is not None            # predictions come from the trainer
    # measuring does not disturb training: same losses as the tracked run (same weights, seed, lr)
    assert [r["loss"] for r in result.history] == [r["loss"] for r in tracked.history[:2]]


def test_stratified_subsample_is_fixed_and_keeps_every_class():
    labels = torch.repeat_interleave(torch.arange(4), torch.tensor([3000, 500, 10, 1]))
    idx = stratified_subsample(labels, 2000, seed=3)
    counts = torch.bincount(labels[idx], minlength=4).tolist()
    # ⌊n_k·2000/3511⌋ = 1708, 284, 5 and at least min(n_k, 2) = 1
    assert counts == [1708, 284, 5, 1]
    assert torch.equal(idx, stratified_subsample(labels, 2000, seed=3))
    assert not torch.equal(idx, stratified_subsample(labels, 2000, seed=4))
    assert torch.equal(stratified_subsample(labels[:50], 2000), torch.arange(50))


def test_snapshot_points_are_class_balanced():
    labels = torch.repeat_interleave(torch.arange(3), torch.tensor([100, 20, 3]))
    pts = balanced_points(labels, 30)
    a, b, c = torch.bincount(labels[pts]).tolist()
    assert c == 3 and sorted([a, b]) == [13, 14]                      # round-robin over classes


def test_classifier_params():
    lin = nn.Linear(4, 3)
    w, b = classifier_params(SimpleNamespace(classifier=lin), 3)
    assert torch.equal(w, lin.weight.detach()) and torch.equal(b, lin.bias.detach())
    assert classifier_params(SimpleNamespace(classifier=WrappedHead(lin)), 3) == (None, None)
    assert classifier_params(SimpleNamespace(classifier=nn.Linear(4, 3, bias=False)), 3)[1] is None
    assert classifier_params(SimpleNamespace(classifier=nn.Linear(4, 5)), 3) == (None, None)


@pytest.fixture(scope="module")
def digits_lt():
    from ltcore.engine.trainer import prepare_data

    return prepare_data(Config(dataset="digits", ratio=100, seed=0))


@pytest.mark.parametrize("method, params", [("nc_reg", {}), ("bcl", {}), ("crt", {"stage2_epochs": 1})])
def test_tracking_never_changes_training(digits_lt, method, params):
    """Recording geometry (NC every epoch, snapshots) leaves the weights and accuracy bit-identical:
    a measurement is read-only (no BatchNorm update, no random draw, modes restored)."""
    def run(**tracking):
        config = Config(dataset="digits", ratio=100, epochs=2, batch_size=64, method=method,
                        method_params=params, device="cpu", **tracking)
        trainer = Trainer(config, data=digits_lt, save_checkpoints=False)
        result = trainer.fit()
        return result, trainer.model.state_dict()

    plain, plain_weights = run(nc_every=0)
    tracked, tracked_weights = run(nc_every=1, snapshot_epochs=(1,))
    assert [e["epoch"] for e in tracked.extras["nc_history"]] == [1, 2]
    assert plain.metrics["balanced_acc"] == tracked.metrics["balanced_acc"]
    assert plain_weights.keys() == tracked_weights.keys()
    for name, value in plain_weights.items():
        assert torch.equal(value, tracked_weights[name]), name


def test_measuring_restores_each_module_mode(digits_lt):
    from ltcore.metrics.tracking import measure

    trainer = Trainer(Config(dataset="digits", ratio=100, epochs=1, device="cpu"), data=digits_lt,
                      save_checkpoints=False)
    trainer.model.train()
    trainer.model.classifier.eval()
    measure(trainer)
    assert trainer.model.training and trainer.model.backbone.training
    assert not trainer.model.classifier.training
