"""Decoupled second stages, stage-1 reuse, the held-out split and transfer initialisation."""
import pytest
import torch

from ltcore import Config, Trainer, train
from ltcore.engine.checkpoints import checkpoint_path, load_state, save_checkpoint
from ltcore.errors import ConfigError
from ltcore.methods.stage2 import TAU_GRID


def split_state(model):
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    backbone = {k: v for k, v in state.items() if k.startswith("backbone.")}
    head = {k: v for k, v in state.items() if k.startswith("classifier.")}
    return backbone, head


@pytest.mark.parametrize("augment", ["none", "crop"])  # cached features / through the frozen backbone
def test_crt_changes_only_the_classifier_and_its_stage_one_is_the_ce_run(digits, quick, augment):
    quick = {**quick, "augment": augment}
    crt = train(Config(**quick, method="crt"), data=digits)
    stage1 = load_state(checkpoint_path(Config(**quick, method="ce")))
    backbone, head = split_state(crt.model)
    assert crt.extras["stage1"]["reused"] is False and len(crt.history) == 2
    stats = ("running_mean", "running_var", "num_batches_tracked")
    for k, v in backbone.items():
        if k.endswith(stats):  # BatchNorm in train mode in stage 2, as the authors' code
            assert k.endswith("num_batches_tracked") or not torch.equal(v.cpu(), stage1[k]), k
        else:
            assert torch.equal(v.cpu(), stage1[k]), k  # parameters frozen
    assert not torch.equal(head["classifier.weight"].cpu(), stage1["classifier.weight"])
    ce = train(Config(**quick, method="ce"), data=digits)
    for k, v in ce.model.state_dict().items():
        assert torch.equal(v.cpu(), stage1[k]), k  # stage 1 of cRT is exactly the `ce` run


def test_two_stage_methods_reuse_a_saved_ce_model_instead_of_retraining(digits, quick):
    ce = train(Config(**quick, method="ce"), data=digits)
    assert checkpoint_path(ce.config).exists()
    for name in ("crt", "lws", "ncm"):
        events = []
        result = train(Config(**quick, method=name), data=digits, on_event=events.append)
        assert result.extras["stage1"]["run_id"] == ce.config.run_id and result.extras["stage1"]["reused"]
        assert result.status == "done"
        assert any(e["type"] == "stage2" for e in events)
        # stage 1 is reported as what it is (issue 14, bug 2): the ce run's epochs and history, reused
        assert result.epochs_completed == ce.epochs_completed == 2
        assert [h["epoch"] for h in result.history] == [1, 2] and all(h["reused"] for h in result.history)
        assert [h["loss"] for h in result.history] == pytest.approx([h["loss"] for h in ce.history])
        assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2]      # the store sees them
        one, two = result.extras["stages"]
        assert one["reused"] and one["epochs"] == 2 and one["seconds"] == pytest.approx(
            ce.extras["checkpoint"]["seconds"]) and one["from_run"] == ce.config.run_id
        assert two["what"] == name and two["epochs"] == (10 if name in ("crt", "lws") else 0)
        backbone, _ = split_state(result.model)
        for k, v in backbone.items():
            if name == "ncm" or not k.endswith(("running_mean", "running_var", "num_batches_tracked")):
                assert torch.equal(v, ce.model.state_dict()[k]), (name, k)


def test_ncm_classifier_holds_the_cl2n_class_means_of_training_features(digits, quick):
    result = train(Config(**quick, method="ncm"), data=digits)
    model = result.model.eval()
    x = digits.x_train.float() / 255.0
    x = (x - digits.split.mean[0]) / digits.split.std[0]
    with torch.no_grad():
        h = model.features(x).float()
    centred = torch.nn.functional.normalize(h - h.mean(0), dim=1)
    means = torch.stack([centred[digits.y_train == k].mean(0) for k in range(10)])
    assert torch.allclose(model.classifier.feat_mean, h.mean(0), atol=2e-2)  # bf16 features on some CPUs
    assert torch.allclose(model.classifier.weight, means, atol=2e-2)


def test_lws_learns_one_scale_per_class_on_a_frozen_classifier(digits, quick):
    result = train(Config(**quick, method="lws"), data=digits)
    stage1 = load_state(checkpoint_path(Config(**quick, method="ce")))
    head = result.model.classifier
    assert torch.equal(head.base.weight.cpu(), stage1["classifier.weight"])
    assert len(result.extras["lws_scales"]) == 10 and result.extras["lws_scales"] != [1.0] * 10


def test_tau_norm_picks_tau_on_the_validation_split_after_a_plain_ce_stage_one(digits, quick):
    trainer = Trainer(Config(**quick, method="tau_norm"), data=digits)
    assert trainer.method.val_idx is None  # nothing held out of training: stage 1 is the `ce` run
    assert trainer.method.stage1_config.run_id == Config(**quick, method="ce").run_id
    result = trainer.fit()
    curve = result.extras["tau_curve"]
    assert result.extras["tau_picked_on"] == "validation"
    assert [t for t, _ in curve] == TAU_GRID and all(0 <= a <= 1 for _, a in curve)
    best = max(a for _, a in curve)
    assert result.extras["tau"] == min(t for t, a in curve if a == best)
    assert not hasattr(result.model.classifier, "bias") or result.model.classifier.bias is None


def test_tau_norm_with_a_given_tau_needs_no_held_out_split_and_reuses_ce(digits, quick):
    ce = train(Config(**quick, method="ce"), data=digits)
    result = train(Config(**quick, method="tau_norm", method_params={"norm_tau": 1.0}), data=digits)
    assert result.extras["stage1"]["reused"] and result.extras["tau"] == 1.0
    w = ce.model.classifier.weight
    assert torch.allclose(result.model.classifier.weight, w / w.norm(dim=1, keepdim=True), atol=1e-6)


def test_transfer_starts_from_the_checkpoint_and_skips_mismatched_tensors(digits, tmp_path, quick):
    donor = train(Config(**quick, method="ce", seed=3), data=digits)
    state = donor.model.state_dict()
    path = tmp_path / "donor.pt"
    torch.save({**state, "classifier.weight": torch.zeros(3, 64)}, path)  # a head of another size
    trainer = Trainer(Config(**quick, method="transfer", method_params={"init_from": str(path)}), data=digits)
    own = trainer.model.state_dict()
    for k, v in state.items():
        if k != "classifier.weight":
            assert torch.equal(own[k], v), k
    assert trainer.method.info["init_from"]["skipped"] == ["classifier.weight"]


def test_transfer_without_a_file_says_what_to_give(quick):
    with pytest.raises(ConfigError, match="init_from"):
        Config(**quick, method="transfer").validate()
    with pytest.raises(ConfigError, match="no checkpoint file"):
        Trainer(Config(**quick, method="transfer", method_params={"init_from": "/nowhere/x.pt"}))


def test_a_checkpoint_that_does_not_fit_is_not_reused(digits, quick):
    ce_config = Config(**quick, method="ce")
    save_checkpoint(ce_config, torch.nn.Linear(2, 2))
    result = train(Config(**quick, method="crt"), data=digits)
    assert result.extras["stage1"]["reused"] is False and len(result.history) == 2


def test_a_reused_stage_one_brings_its_neural_collapse_curve_and_feature_snapshots(digits, quick):
    measured = {**quick, "epochs": 3, "nc_every": 1, "snapshot_epochs": (1, 2, 3)}
    ce = train(Config(**measured, method="ce"), data=digits)
    crt = train(Config(**measured, method="crt"), data=digits)
    assert crt.extras["stages"][0]["reused"]
    assert [e["epoch"] for e in crt.extras["nc_history"]] == [1, 2, 3]
    assert [s["epoch"] for s in crt.extras["snapshots"]] == [1, 2, 3]       # the epoch slider has frames
    assert crt.extras["snapshots"][:2] == ce.extras["snapshots"][:2]
    assert crt.extras["snapshots"][-1]["classifier"] != ce.extras["snapshots"][-1]["classifier"]  # stage 2's head
