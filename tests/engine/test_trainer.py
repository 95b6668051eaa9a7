"""The Trainer: events every epoch, stop mid-run, repeatable CPU runs, schedules, evaluation."""
import math

import pytest
import torch

from ltcore import Config, train
from ltcore.engine.trainer import lr_at

TINY = dict(dataset="digits", ratio=20, epochs=3, batch_size=64)


def test_events_after_every_epoch_carry_what_a_live_chart_needs():
    events = []
    result = train(Config(**TINY), on_event=events.append)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        assert {"loss", "train_acc", "test_acc", "balanced_acc", "many_acc", "few_acc", "per_class_acc",
                "seconds"} <= set(e)
        assert len(e["per_class_acc"]) == 10 and math.isfinite(e["loss"])
    assert events[0]["type"] == "start" and events[-1]["type"] == "end"
    assert result.status == "done" and result.epochs_completed == 3
    assert result.history[-1]["balanced_acc"] == pytest.approx(result.history[-1]["test_acc"])


def test_should_stop_ends_the_run_cleanly_and_keeps_what_was_computed():
    steps = {"n": 0}

    def stop_after_first_epoch():
        steps["n"] += 1
        return steps["n"] > 4  # digits ρ20 at batch 64 has ~6 steps per epoch
    result = train(Config(**(TINY | {"epochs": 20})), should_stop=stop_after_first_epoch)
    assert result.status == "stopped"
    assert 1 <= result.epochs_completed < 20
    assert len(result.per_class_acc) == 10 and 0 <= result.balanced_acc <= 1


def test_cpu_runs_with_the_same_seed_are_repeatable():
    a = train(Config(**TINY, seed=5, precision="fp32"))
    b = train(Config(**TINY, seed=5, precision="fp32"))
    assert a.per_class_acc == b.per_class_acc
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]


def test_evaluation_reports_balanced_and_many_medium_few_accuracy():
    result = train(Config(**TINY))
    m, counts = result.metrics, result.class_counts
    assert sum(m["test_counts"]) == 400 and set(m["test_counts"]) == {40}
    assert "thresholds" in m["shot_rule"]  # digits' head class has 124 > 100 images
    assert m["shot_groups"] == ["many" if c > 100 else "few" if c < 20 else "medium" for c in counts]
    acc = m["per_class_acc"]
    few = [a for a, c in zip(acc, counts) if c < 20]
    assert m["balanced_acc"] == pytest.approx(sum(acc) / 10)
    assert m["shot_acc"]["few"] == pytest.approx(sum(few) / len(few))


def test_small_data_falls_back_to_frequency_terciles():
    result = train(Config(**(TINY | {"epochs": 1, "balanced_total": True})))  # 34 images per class
    assert max(result.class_counts) <= 100 and "terciles" in result.shot_rule
    assert sorted(result.shot_groups) == ["few"] * 3 + ["many"] * 4 + ["medium"] * 3


def test_ldam_recipe_schedule_warmup_and_multistep():
    cfg = Config(epochs=200, lr=0.1, warmup_epochs=5, schedule="multistep", milestones=(160, 180),
                 lr_gamma=0.01)
    assert lr_at(cfg, 0) == pytest.approx(0.02)
    assert lr_at(cfg, 4) == pytest.approx(0.1)
    assert lr_at(cfg, 159) == pytest.approx(0.1)
    assert lr_at(cfg, 160) == pytest.approx(0.001)
    assert lr_at(cfg, 199) == pytest.approx(0.00001)


def test_cosine_schedule_decays_to_zero_after_warmup():
    cfg = Config(epochs=10, lr=0.2, warmup_epochs=2, schedule="cosine")
    assert lr_at(cfg, 2) == pytest.approx(0.2)
    assert lr_at(cfg, 6) == pytest.approx(0.1)
    assert lr_at(cfg, 9) < 0.01


def test_diverging_loss_fails_the_run_with_a_readable_message():
    result = train(Config(dataset="gaussians", epochs=3, lr=1e12, momentum=0.0, weight_decay=0.0))
    assert result.status == "failed"
    assert "loss became" in result.error and "epoch" in result.error


def test_the_validation_split_is_scored_apart_from_the_test_set():
    """Hyper-parameters are chosen on the balanced validation split; its balanced accuracy is in
    every epoch's row and in the result, computed from the validation images only."""
    from ltcore.engine.trainer import Trainer

    trainer = Trainer(Config(**TINY))
    result = trainer.fit()
    logits = trainer.predict_validation()
    labels = trainer.val_batches.y
    assert logits.shape == (100, 10) and torch.bincount(labels).tolist() == [10] * 10
    recall = [float((logits.argmax(1)[labels == k] == k).float().mean()) for k in range(10)]
    assert result.metrics["val_balanced_acc"] == pytest.approx(sum(recall) / 10)
    assert result.val_balanced_acc == result.history[-1]["val_balanced_acc"]
    assert all(0 <= h["val_balanced_acc"] <= 1 for h in result.history)
    # a different result from the test set's: the two splits share no image
    assert trainer.val_batches.x.shape[0] + trainer.test_batches.x.shape[0] == 500
    assert trainer.validation_accuracy(torch.zeros(100, 10))["val_balanced_acc"] == pytest.approx(0.1)


@pytest.mark.parametrize("method", ["ldam_drw", "tau_norm", "sade"])
def test_logits_with_features_are_the_plain_logits_from_one_backbone_pass(method):
    """NC tracking and the what-ifs ask for logits and features together: the same logits as a
    plain prediction (post-hoc steps and LDAM's scale included), one backbone pass per batch."""
    from ltcore.engine.trainer import Trainer

    trainer = Trainer(Config(**{**TINY, "epochs": 1}, method=method))
    trainer.fit()
    plain = trainer.predict(trainer.test_batches)
    calls = []
    hook = trainer.model.backbone.register_forward_hook(lambda *a: calls.append(1))
    logits, feats = trainer.predict(trainer.test_batches, with_features=True)
    hook.remove()
    assert torch.equal(logits, plain)
    assert feats.shape == (len(plain), trainer.model.feature_dim)
    assert len(calls) == len(list(trainer.test_batches.eval_batches()))
