"""KD (Hinton et al. 2015) and BKD (Zhang et al. 2021) against a short transcription of the authors'
code, on identical inputs; their limits; the teacher loaded from the store or a file.

Transcribed from github.com/EricZsy/BalancedKnowledgeDistillation (commit 168dd0a):
  losses.py L65-75 (`KDLoss.forward`), L87-99 (`BKDLoss.forward`), train_student.py L223-237 (the
  class-balanced `per_cls_weights` of the `Reweight`/`DRW` rules) and L124-127 (DRW on CIFAR-10,
  Reweight elsewhere).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ltcore import Config, train
from ltcore.errors import ConfigError
from ltcore.methods import build_method
from ltcore.methods.distill import DistillationLoss, BalancedDistillationLoss, high_temperature_limit, kd_term
from ltcore.engine.trainer import Trainer


# --- the authors' code, transcribed (torch.cuda.FloatTensor → CPU tensors) -----------------------
def authors_kd(out_s, out_t, target, alpha, T, weight):            # losses.py L65-75
    kd_loss = F.kl_div(F.log_softmax(out_s / T, dim=1), F.softmax(out_t / T, dim=1),
                       reduction='batchmean') * T * T
    ce_loss = nn.CrossEntropyLoss(weight=weight)(out_s, target)
    return alpha * kd_loss + ce_loss


def authors_bkd(out_s, out_t, target, alpha, T, weight):           # losses.py L87-99
    pred_t = F.softmax(out_t / T, dim=1)
    if weight is not None:
        pred_t = pred_t * weight
        pred_t = pred_t / pred_t.sum(1)[:, None]
    kd = F.kl_div(F.log_softmax(out_s / T, dim=1), pred_t, reduction='none').mean(dim=0)
    kd_loss = kd.sum() * T * T
    ce_loss = nn.CrossEntropyLoss()(out_s, target)
    return alpha * kd_loss + ce_loss


def authors_per_cls_weights(cls_num_list, beta):                    # train_student.py L225-229
    effective_num = 1.0 - np.power(beta, cls_num_list)
    per_cls_weights = (1.0 - beta) / np.array(effective_num)
    return per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)


COUNTS = [500, 300, 120, 60, 20, 5]
SOURCE = "EricZsy/BalancedKnowledgeDistillation"


def ours(cls, z_s, z_t, y, alpha, T, weight):
    loss = cls(COUNTS, kd_temperature=T, kd_alpha=alpha)
    loss.weight = weight
    loss.teacher_logits = z_t
    return loss(z_s, y)


@pytest.mark.parametrize("T,alpha", [(2.0, 1.0), (4.0, 0.5), (1.0, 3.0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_kd_and_bkd_losses_equal_the_authors_on_identical_inputs(T, alpha, weighted, fidelity):
    gen = torch.Generator().manual_seed(int(10 * T + alpha))
    w = torch.tensor(authors_per_cls_weights(COUNTS, 0.9999), dtype=torch.float32) if weighted else None
    draws = [(3 * torch.randn(64, 6, generator=gen), 3 * torch.randn(64, 6, generator=gen),
              torch.randint(0, 6, (64,), generator=gen)) for _ in range(20)]
    what = f"loss, T={T}, α={alpha}, {'class-balanced w (β=0.9999)' if weighted else 'no class weights'}"
    for name, cls, theirs in (("kd", DistillationLoss, authors_kd), ("bkd", BalancedDistillationLoss, authors_bkd)):
        fidelity(name, f"{SOURCE} losses.py {'KDLoss' if name == 'kd' else 'BKDLoss'}", what,
                 torch.stack([ours(cls, z_s, z_t, y, alpha, T, w) for z_s, z_t, y in draws]),
                 torch.stack([theirs(z_s, z_t, y, alpha, T, w) for z_s, z_t, y in draws]))


def test_bkd_weights_are_the_class_balanced_weights_switched_on_by_drw():
    method = build_method("bkd", {"kd_teacher": "x.pt", "drw_epoch": 3}, COUNTS, 5, torch.device("cpu"))
    method.on_epoch_start(2)
    assert method.loss.weight is None                      # before DRW: plain KD on the teacher
    method.on_epoch_start(3)
    expected = torch.tensor(authors_per_cls_weights(COUNTS, 0.9999), dtype=torch.float32)
    assert torch.allclose(method.loss.weight, expected, rtol=1e-6)
    # the teacher's distribution is re-weighted by w and renormalised (BKD Eq. 7)
    z_t = torch.randn(8, 6, generator=torch.Generator().manual_seed(1))
    p = F.softmax(z_t / 2, 1) * expected
    balanced_student = torch.log(p / p.sum(1, keepdim=True)) * 2      # softmax(z/T) = w·p_t / Σ w·p_t
    assert kd_term(balanced_student, z_t, 2.0, expected).abs().max() < 1e-5   # BKD's optimum ...
    assert (kd_term(z_t, z_t, 2.0, expected) > 0.1).all()                     # ... not the teacher's
    # the tail class gains teacher mass, the head loses it
    q = p / p.sum(1, keepdim=True)
    assert (q[:, -1] > F.softmax(z_t / 2, 1)[:, -1]).all() and (q[:, 0] < F.softmax(z_t / 2, 1)[:, 0]).all()


def authors_student_weights(dataset, epoch, cls_num_list):              # train_student.py L124-127, L223-237
    train_rule = 'DRW' if dataset == 'cifar10' else 'Reweight'
    if train_rule == 'Reweight':
        beta = 0.9999
    else:
        beta = [0, 0.9999][epoch // 160]
    effective_num = 1.0 - np.power(beta, cls_num_list)
    per_cls_weights = (1.0 - beta) / np.array(effective_num)
    return per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "mnist1d"])
def test_bkd_class_weights_follow_the_data_set_as_the_authors(dataset, fidelity):
    """The authors defer the weights (DRW) on CIFAR-10 only and re-weight from epoch 0 on every
    other set: the weights the `bkd` preset gives its loss at epochs 0, 159 and 160 of 200."""
    from types import SimpleNamespace

    method = build_method("bkd", {"kd_teacher": "x.pt"}, COUNTS, 200, torch.device("cpu"))
    ctx = SimpleNamespace(config=SimpleNamespace(dataset=dataset))
    getattr(method.reweight, "prepare", lambda *a: None)(ctx, None)
    for epoch in (0, 159, 160):
        method.on_epoch_start(epoch)
        w = method.loss.weight if method.loss.weight is not None else torch.ones(len(COUNTS))
        fidelity("bkd", f"{SOURCE} train_student.py", f"class weights per data set ({dataset}), epoch {epoch}",
                 w, torch.tensor(authors_student_weights(dataset, epoch, COUNTS), dtype=torch.float32))


def test_high_temperature_limit_matches_centred_logit_matching():
    gen = torch.Generator().manual_seed(2)
    z_s, z_t = torch.randn(32, 7, generator=gen, dtype=torch.float64), torch.randn(32, 7, generator=gen,
                                                                                   dtype=torch.float64)
    limit = high_temperature_limit(z_s, z_t)
    errors = [((kd_term(z_s, z_t, T) - limit).abs() / limit).max().item() for T in (10.0, 100.0, 1000.0)]
    assert errors[2] < 2e-3 and errors[0] / errors[1] > 5 and errors[1] / errors[2] > 5   # error ∝ 1/T
    # adding a constant to every logit of a sample changes nothing (softmax invariance)
    assert torch.allclose(kd_term(z_s + 5, z_t, 3.0), kd_term(z_s, z_t, 3.0))


@pytest.fixture(scope="module")
def teacher_store(trained_store):
    """A store holding one tiny `ce` run on digits (1 epoch) with its checkpoint, and its weights."""
    _, store, (run_id,) = trained_store("teacher", [Config(dataset="digits", ratio=50, epochs=1, batch_size=64)])
    return store, run_id, store.run_model(run_id)[1]


def test_teacher_equal_to_the_student_init_gives_zero_kd_gradient(tmp_path, teacher_store):
    store, _, weights = teacher_store
    path = tmp_path / "init.pt"
    torch.save(weights, path)
    trainer = Trainer(Config(dataset="digits", ratio=50, epochs=1, batch_size=64, method="kd",
                             method_params={"kd_teacher": str(path), "init_from": str(path)}))
    student, loss = trainer.model.eval(), trainer.method.loss
    x = trainer.train_batches.prepare(trainer.train_batches.x[:64], False)
    loss.observe(x)
    z = student(x)
    assert torch.allclose(z, loss.teacher_logits, atol=1e-6)
    kd = loss.distillation(z)
    grads = torch.autograd.grad(kd, [p for p in student.parameters() if p.requires_grad], allow_unused=True)
    assert abs(kd.item()) < 1e-6
    assert max(g.abs().max().item() for g in grads if g is not None) < 1e-6


@pytest.mark.parametrize("method", ["kd", "bkd"])
def test_distillation_trains_two_epochs_from_a_stored_teacher(method, teacher_store):
    store, run_id, _ = teacher_store
    config = Config(dataset="digits", ratio=50, epochs=2, batch_size=64, method=method,
                    method_params={"kd_teacher": run_id[:8], **({"drw_epoch": 1} if method == "bkd" else {})})
    result = train(config, find_run=store.run_model)
    assert result.status == "done", result.error
    assert len(result.history) == 2 and all(np.isfinite(h["loss"]) for h in result.history)


def test_a_teacher_that_cannot_serve_is_refused_in_one_line(tmp_path, teacher_store):
    store, run_id, weights = teacher_store

    def run(ref, find_run=store.run_model):
        cfg = Config(dataset="digits", ratio=50, epochs=1, method="kd", method_params={"kd_teacher": ref})
        with pytest.raises(ConfigError) as info:
            Trainer(cfg, find_run=find_run)
        assert "\n" not in str(info.value)
        return str(info.value)

    assert "no run" in run("ffffffff")
    assert "no checkpoint file" in run(str(tmp_path / "missing.pt"))
    assert "run store" in run(run_id, find_run=None)
    other = lambda ref: (Config(dataset="gaussians"), weights)  # noqa: E731
    assert "trained on gaussians" in run(run_id, find_run=other)
    five = {k: (v[:5] if k.startswith("classifier.") else v) for k, v in weights.items()}
    torch.save(five, tmp_path / "five.pt")
    assert "has 5 classes" in run(str(tmp_path / "five.pt"))
    with pytest.raises(ConfigError, match="needs kd_teacher"):
        Config(method="bkd").validate()
