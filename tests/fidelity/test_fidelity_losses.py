"""Losses, margins and class weights against transcriptions of the authors' code."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from ltcore.methods import build_loss
from ltcore.methods.classifiers import ETFClassifier
from ltcore.methods.losses import inverse_prior
from ltcore.methods.schedules import DeferredReweighting

COUNTS = [500, 300, 160, 90, 50, 28, 15, 8, 5, 2]
K, B = len(COUNTS), 64


def batch(seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    z = scale * torch.randn(B, K, generator=g)
    # an imbalanced batch, every class present at least once
    y = torch.cat([torch.arange(K), torch.multinomial(torch.tensor(COUNTS, dtype=torch.float), B - K,
                                                      replacement=True, generator=g)])
    return z, y


# --- Yang et al. NeurIPS'22, NeuralCollapseApplications/ImbalancedLearning ----------------------
def authors_produce_Ew(label, num_classes):
    """methods.py lines 31-45 (`produce_Ew`), .cuda() dropped."""
    uni_label, count = torch.unique(label, return_counts=True)
    batch_size = label.size(0)
    uni_label_num = uni_label.size(0)
    gamma = batch_size / uni_label_num
    Ew = torch.ones(1, num_classes)
    for i in range(uni_label_num):
        Ew[0, uni_label[i]] = torch.sqrt(gamma / count[i])
    return Ew


def authors_dot_loss(output, label, cur_M, H_length):
    """methods.py lines 14-29 (`dot_loss`, criterion 'reg_dot_loss', reg_lam 0)."""
    target = cur_M[:, label].T
    dot = torch.bmm(output.unsqueeze(1), target.unsqueeze(2)).view(-1)
    M_length = torch.sqrt(torch.sum(target ** 2, dim=1, keepdims=False))
    return (1 / 2) * torch.mean(((dot - (M_length * H_length)) ** 2) / H_length)


def authors_etf_forward(bn, x):
    """models/resnet_cifar.py lines 201-205 (`ETF_Classifier.forward`)."""
    x = bn(x)
    return x / torch.clamp(torch.sqrt(torch.sum(x ** 2, dim=1, keepdims=True)), 1e-8)


def test_etf_dr_dot_regression_with_given_ew(fidelity):
    # train.py lines 410-416 and 447-456: cur_M = Ew * ori_M, features through ETF_Classifier
    head = ETFClassifier(32, K)
    g = torch.Generator().manual_seed(1)
    h = torch.randn(B, 32, generator=g)
    _, y = batch(1)
    head.train()
    feat = authors_etf_forward(head.bn, h)
    H_length = torch.clamp(torch.sqrt(torch.sum(feat ** 2, dim=1)), 1e-8)
    theirs = authors_dot_loss(feat, y, authors_produce_Ew(y, K) * head.etf, H_length)
    head.bn.reset_running_stats()
    ours = build_loss("dot_regression", COUNTS)(head(h), y)
    fidelity("etf_dr", "NeuralCollapseApplications/ImbalancedLearning methods.py `dot_loss`, "
             "`produce_Ew` (GivenEw)", "dot-regression loss on BN + L2-normalised features", ours, theirs)


def test_etf_dr_mixup_targets_share_the_batch_counts(fidelity):
    # train.py lines 423-439: Ew from the batch's targets, loss λ·DR(y_a) + (1−λ)·DR(y_b)
    z, y = batch(2, 0.3)
    perm = torch.randperm(B, generator=torch.Generator().manual_seed(3))
    lam = 0.3
    m = torch.eye(K)  # unit class vectors: z = h·m
    h = F.normalize(torch.randn(B, K, generator=torch.Generator().manual_seed(4)), dim=1)
    ew = authors_produce_Ew(y, K) * m
    ones = torch.ones(B)
    theirs = lam * authors_dot_loss(h, y, ew, ones) + (1 - lam) * authors_dot_loss(h, y[perm], ew, ones)
    ours = build_loss("dot_regression", COUNTS).mixed(h @ m, y, y[perm], torch.full((B,), lam))
    fidelity("etf_dr", "ImbalancedLearning train.py mixup branch", "mixup dot-regression loss", ours, theirs)


# --- Cui et al. CVPR'19, richardaecn/class-balanced-loss (TensorFlow; numpy transcription) --------
def authors_cb_weights(img_num_per_cls, beta):
    """src/cifar_main.py lines 425-430."""
    effective_num = 1.0 - np.power(beta, img_num_per_cls)
    weights = (1.0 - beta) / np.array(effective_num)
    return weights / np.sum(weights) * len(img_num_per_cls)


def authors_focal_loss(labels, logits, alpha, gamma):
    """src/cifar_main.py lines 226-266 (`focal_loss`), tf ops as numpy; alpha per sample and class
    as built in `_tower_fn` lines 325-330."""
    ce = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))  # sigmoid CE
    modulator = 1.0 if gamma == 0.0 else np.exp(-gamma * labels * logits - gamma * np.log1p(np.exp(-1.0 * logits)))
    return np.sum(alpha * modulator * ce) / np.sum(labels)


def test_cb_focal_is_the_sigmoid_focal_loss(fidelity):
    z, y = batch(5)
    for beta, gamma in [(0.9999, 1.0), (0.999, 2.0), (0.9, 0.5), (0.99, 0.0)]:
        w = authors_cb_weights(np.array(COUNTS, dtype=np.float64), beta)
        labels = np.eye(K)[y.numpy()]
        alpha = np.tile((labels * w[None]).sum(1, keepdims=True), (1, K))
        theirs = authors_focal_loss(labels, z.double().numpy(), alpha, gamma)
        ours = build_loss("cb_focal", COUNTS, beta=beta, gamma=gamma)(z, y)
        fidelity("cb_focal", "richardaecn/class-balanced-loss src/cifar_main.py `focal_loss`",
                 f"sigmoid focal loss, β={beta}, γ={gamma}", ours, theirs)


def test_class_balanced_weights(fidelity):
    from ltcore.methods.losses import class_balanced_weights
    for beta in (0.9, 0.999, 0.9999):
        fidelity("cb_ce", "richardaecn/class-balanced-loss src/cifar_main.py lines 425-430",
                 f"class-balanced weights, β={beta}", class_balanced_weights(COUNTS, beta),
                 authors_cb_weights(np.array(COUNTS, dtype=np.float64), beta))


def test_cb_focal_bias_init_is_the_authors(fidelity):
    # src/model_base.py lines 188-196: bias_initializer = −log(K − 1) for the sigmoid/focal losses
    head = torch.nn.Linear(16, K)
    build_loss("cb_focal", COUNTS).init_head(head)
    fidelity("cb_focal", "class-balanced-loss src/model_base.py `_fully_connected`",
             "last-layer bias initialisation", head.bias.detach(), torch.full((K,), -np.log(K - 1)))


# --- Cao et al. NeurIPS'19, kaidic/LDAM-DRW -------------------------------------------------------
def authors_ldam(x, target, cls_num_list, max_m=0.5, s=30, weight=None):
    """losses.py lines 23-45 (`LDAMLoss`), CUDA types replaced by CPU ones."""
    m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))
    m_list = torch.FloatTensor(m_list * (max_m / np.max(m_list)))
    index = torch.zeros_like(x, dtype=torch.uint8)
    index.scatter_(1, target.data.view(-1, 1), 1)
    batch_m = torch.matmul(m_list[None, :], index.float().transpose(0, 1)).view((-1, 1))
    output = torch.where(index.bool(), x - batch_m, x)
    return F.cross_entropy(s * output, target, weight=weight)


def authors_drw_weights(epoch, cls_num_list):
    """cifar_train.py lines 199-206 (train_rule 'DRW', 200 epochs)."""
    idx = epoch // 160
    betas = [0, 0.9999]
    effective_num = 1.0 - np.power(betas[idx], cls_num_list)
    per_cls_weights = (1.0 - betas[idx]) / np.array(effective_num)
    return per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)


def authors_focal(input, target, gamma=1.0, weight=None):
    """losses.py lines 7-21 (`FocalLoss`)."""
    values = F.cross_entropy(input, target, reduction="none", weight=weight)
    p = torch.exp(-values)
    return ((1 - p) ** gamma * values).mean()


def test_ldam_loss_on_cosine_logits(fidelity):
    z, y = batch(6, 0.4)
    z = z.clamp(-1, 1)
    fidelity("ldam", "kaidic/LDAM-DRW losses.py `LDAMLoss`", "LDAM loss (margins ∝ n^-1/4; s = 30)",
             build_loss("ldam", COUNTS)(z, y), authors_ldam(z, y, np.array(COUNTS)))


def test_ldam_drw_weights_and_weighted_loss(fidelity):
    drw = DeferredReweighting(COUNTS, 200)
    worst = 0.0
    for epoch in (0, 159, 160, 199):
        w = drw.weight(epoch, None)
        theirs = authors_drw_weights(epoch, np.array(COUNTS))
        worst = max(worst, fidelity("ldam_drw", "LDAM-DRW cifar_train.py lines 199-206", f"DRW weights, epoch {epoch}",
                                    torch.ones(K) if w is None else w, theirs))
    z, y = batch(7, 0.4)
    z = z.clamp(-1, 1)
    loss = build_loss("ldam", COUNTS)
    loss.weight = drw.weight(170, None)
    theirs = authors_ldam(z, y, np.array(COUNTS),
                          weight=torch.tensor(authors_drw_weights(170, np.array(COUNTS))).float())
    fidelity("ldam_drw", "LDAM-DRW losses.py `LDAMLoss` with DRW weights", "re-weighted LDAM loss", loss(z, y), theirs)
    ce = build_loss("ce", COUNTS)
    ce.weight = drw.weight(170, None)
    theirs = F.cross_entropy(z, y, weight=torch.tensor(authors_drw_weights(170, np.array(COUNTS))).float())
    fidelity("ce_drw", "LDAM-DRW cifar_train.py lines 199-211 (CE, train_rule DRW)", "re-weighted CE", ce(z, y), theirs)


def test_focal_loss(fidelity):
    z, y = batch(8)
    fidelity("focal", "kaidic/LDAM-DRW losses.py `FocalLoss` (γ = 1)", "softmax focal loss",
             build_loss("focal", COUNTS, gamma=1.0)(z, y), authors_focal(z, y, 1.0))


def test_mixup_loss(fidelity):
    # zhangyongshun/BagofTricks-LT lib/core/combiner.py lines 69-80 (`mix_up`): one λ per batch,
    # loss = λ·CE(z, y_a) + (1 − λ)·CE(z, y_b)
    z, y = batch(12)
    perm = torch.randperm(B, generator=torch.Generator().manual_seed(13))
    for lam in (0.2, 0.7):
        theirs = lam * F.cross_entropy(z, y) + (1 - lam) * F.cross_entropy(z, y[perm])
        ours = build_loss("ce", COUNTS).mixed(z, y, y[perm], torch.full((B,), lam))
        fidelity("mixup", "BagofTricks-LT lib/core/combiner.py `mix_up`", f"mixed loss, λ={lam}", ours, theirs)


# --- Ren et al. NeurIPS'20 / Menon et al. ICLR'21 as ported by the repositories cited ---------------
def test_balanced_softmax(fidelity):
    # zhangyongshun/BagofTricks-LT lib/loss/loss_impl/balanced_softmax_cross_entropy_loss.py lines 25-26
    z, y = batch(9)
    n = torch.tensor(COUNTS, dtype=torch.float)
    theirs = F.cross_entropy(z + n.unsqueeze(0).expand(z.shape[0], -1).log(), y)
    fidelity("balanced_softmax", "BagofTricks-LT balanced_softmax_cross_entropy_loss.py", "balanced softmax loss",
             build_loss("balanced_softmax", COUNTS)(z, y), theirs)


def authors_compute_adjustment(counts, tro):
    """Pepper-lll/NCfeature losses.py lines 10-24 (`compute_adjustment`, Menon et al.'s offsets)."""
    freq = np.array(counts) / np.sum(counts)
    return torch.from_numpy(np.log(freq ** tro + 1e-12))


def test_logit_adjusted_loss_and_posthoc(fidelity):
    from ltcore.methods.schedules import logit_adjustment
    z, y = batch(10)
    for tau in (0.5, 1.0, 1.5):
        adj = authors_compute_adjustment(COUNTS, tau).float()
        fidelity("la_loss", "NCfeature losses.py `compute_adjustment` + engine.py `output += adjustments`",
                 f"logit-adjusted loss, τ={tau}", build_loss("la", COUNTS, tau=tau)(z, y), F.cross_entropy(z + adj, y))
        fidelity("la_posthoc", "NCfeature train.py `logit_adj_post` (z − τ log π)", f"post-hoc predictions, τ={tau}",
                 logit_adjustment(COUNTS, tau)(z).argmax(1), (z - adj).argmax(1), choice=True)


# --- Zhang et al. NeurIPS'22 (SADE), Vanint/SADE-AgnosticLT -----------------------------------------
def authors_inverse_prior(prior):
    """model/loss.py lines 255-261."""
    value, idx0 = torch.sort(prior)
    _, idx1 = torch.sort(idx0)
    return value.index_select(0, prior.shape[0] - 1 - idx1)


def authors_diverse_expert_loss(logits, target, cls_num_list, tau=2):
    """model/loss.py lines 263-286 (`DiverseExpertLoss.forward`); logits[e] the expert logits."""
    prior = torch.tensor(np.array(cls_num_list) / np.sum(cls_num_list)).float()
    loss = F.cross_entropy(logits[0], target)
    loss += F.cross_entropy(logits[1] + torch.log(prior + 1e-9), target)
    inv = authors_inverse_prior(prior)
    loss += F.cross_entropy(logits[2] + torch.log(prior + 1e-9) - tau * torch.log(inv + 1e-9), target)
    return loss


def test_sade_diverse_expert_loss(fidelity):
    counts = [40, 40, 25, 12, 12, 7, 3, 3, 1, 1]  # ties: the rank reversal must not depend on them
    prior = torch.tensor(counts, dtype=torch.float) / sum(counts)
    fidelity("sade", "Vanint/SADE-AgnosticLT model/loss.py `inverse_prior`", "inverse prior π̄",
             inverse_prior(counts), authors_inverse_prior(prior))
    g = torch.Generator().manual_seed(11)
    z = 5 * torch.randn(3, B, K, generator=g)
    _, y = batch(11)
    for tau in (1.0, 2.0, 3.0):
        fidelity("sade", "SADE model/loss.py `DiverseExpertLoss`", f"diverse-expert loss, τ={tau}",
                 build_loss("sade", counts, sade_tau=tau)(z, y), authors_diverse_expert_loss(z, y, counts, tau))
    assert math.isfinite(float(build_loss("sade", counts)(z, y)))


def test_cb_focal_head_bias_is_not_weight_decayed():
    """richardaecn/class-balanced-loss src/cifar_main.py L346-351: the sigmoid/focal losses leave the
    last layer's bias out of the weight decay; every other parameter keeps it (softmax CE decays all)."""
    from torch import nn

    from ltcore.methods import build_method

    model = nn.Module()
    model.backbone, model.classifier = nn.Linear(4, 3), nn.Linear(3, 5)
    for name, bias_decayed in (("cb_focal", False), ("ce", True)):
        groups = build_method(name, {}, COUNTS, 2, torch.device("cpu")).param_groups(model)
        opt = torch.optim.SGD(groups, lr=0.1, weight_decay=5e-4)
        decay = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
        assert decay[id(model.classifier.bias)] == (5e-4 if bias_decayed else 0.0), name
        assert decay[id(model.classifier.weight)] == decay[id(model.backbone.bias)] == 5e-4
