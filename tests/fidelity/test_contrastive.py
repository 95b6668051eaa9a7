"""BCL, KCL, PaCo and SSP against short transcriptions of their authors' code, on identical inputs.

Transcribed from:
  github.com/FlamieZhu/Balanced-Contrastive-Learning (commit f72d070): loss/contrastive.py L17-58
    (`BalSCL.forward`), loss/logitadjust.py L10-20 (`LogitAdjust`), models/resnext.py L8-18
    (`NormedLinear`, s = 30) and L304-309 (`BCLModel.forward`: prototypes from `head_fc(fc.weight.T)`),
    main.py L304-311 (the step: α·CE + β·SCL, the head over all three views).
  github.com/bingykang/BalFeat (commit ba60412): moco/kcl_builder.py L154-190 (`KCL.forward`: logits
    and k-positive soft labels), util.py L43-50 (`SoftCrossEntropyLoss`).
  github.com/dvlab-research/Parametric-Contrastive-Learning (commit fe56535): PaCo/LT/losses.py L24-72
    (`PaCoLoss.forward`), with `cal_weight_for_classes` L19-22.
  github.com/YyzHarry/imbalanced-semi-self (commit b91ad29): utils.py L12-21 (`rotation`).
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from ltcore.methods.classifiers import NormedLinear
from ltcore.methods.contrastive import BCL, bcl_loss, kcl_logits, mlp_head, paco_loss, soft_cross_entropy
from ltcore.methods.losses import build_loss
from ltcore.methods.ssp import rotate, rotation_targets

BCL_SRC = "FlamieZhu/Balanced-Contrastive-Learning loss/contrastive.py"
KCL_SRC = "bingykang/BalFeat moco/kcl_builder.py + util.py"
PACO_SRC = "dvlab-research/Parametric-Contrastive-Learning PaCo/LT/losses.py"
SSP_SRC = "YyzHarry/imbalanced-semi-self utils.py"


# --- the authors' code, transcribed --------------------------------------------------------------
def authors_balscl(cls_num_list, temperature, centers1, features, targets):  # contrastive.py L17-58
    device = torch.device('cpu')
    batch_size = features.shape[0]
    targets = targets.contiguous().view(-1, 1)
    targets_centers = torch.arange(len(cls_num_list), device=device).view(-1, 1)
    targets = torch.cat([targets.repeat(2, 1), targets_centers], dim=0)
    batch_cls_count = torch.eye(len(cls_num_list))[targets].sum(dim=0).squeeze()
    mask = torch.eq(targets[:2 * batch_size], targets.T).float().to(device)
    logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(batch_size * 2).view(-1, 1).to(device), 0)
    mask = mask * logits_mask
    features = torch.cat(torch.unbind(features, dim=1), dim=0)
    features = torch.cat([features, centers1], dim=0)
    logits = features[:2 * batch_size].mm(features.T)
    logits = torch.div(logits, temperature)
    logits_max, _ = torch.max(logits, dim=1, keepdim=True)
    logits = logits - logits_max.detach()
    exp_logits = torch.exp(logits) * logits_mask
    per_ins_weight = torch.tensor([batch_cls_count[i] for i in targets], device=device).view(1, -1).expand(
        2 * batch_size, 2 * batch_size + len(cls_num_list)) - mask
    exp_logits_sum = exp_logits.div(per_ins_weight).sum(dim=1, keepdim=True)
    log_prob = logits - torch.log(exp_logits_sum)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
    loss = - mean_log_prob_pos
    return loss.view(2, batch_size).mean()


def authors_logit_adjust(cls_num_list, x, target, tau=1):               # logitadjust.py L10-20
    cls_num_list = torch.FloatTensor(cls_num_list)
    cls_p_list = cls_num_list / cls_num_list.sum()
    m_list = (tau * torch.log(cls_p_list)).view(1, -1)
    return F.cross_entropy(x + m_list, target)


def authors_normed_linear(weight_d_by_k, x):                            # resnext.py L16-18
    return 30 * F.normalize(x, dim=1).mm(F.normalize(weight_d_by_k, dim=0))


def authors_kcl(q, k, queue, label_queue, labels_gt, posk, T):         # kcl_builder.py L154-190
    bs, K = q.shape[0], queue.shape[1]
    l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)
    l_neg = torch.einsum('nc,ck->nk', [q, queue.clone().detach()])
    key_gts = label_queue.clone().detach().expand(bs, K)
    que_gts = labels_gt.detach().expand(K, bs).T
    gt_mask = (key_gts == que_gts).float()
    if posk is not None:
        _, pred = gt_mask.topk(posk, 1, True, True)
        posk_mask = torch.zeros(bs, K).scatter_(1, pred, 1.)
        posk_mask = gt_mask * posk_mask
        gt_mask = posk_mask
    soft_labels = torch.cat([torch.ones(bs, 1, dtype=torch.float), gt_mask], dim=1)
    soft_labels = soft_labels / soft_labels.sum(dim=1, keepdim=True)
    logits = torch.cat([l_pos, l_neg], dim=1)
    logits /= T
    return logits, soft_labels


def authors_soft_ce(input, target):                                     # util.py L43-50
    bs = input.shape[0]
    nlp = -F.log_softmax(input, dim=1)
    return torch.sum(nlp * target) / bs


def authors_paco(cls_num_list, alpha, beta, gamma, supt, temperature, base_temperature, K, num_classes,
                 features, labels, sup_logits):                        # losses.py L19-72
    weight = torch.Tensor(cls_num_list).view(1, num_classes)
    weight = weight / weight.sum()
    base_temperature = temperature if base_temperature is None else base_temperature
    device = torch.device('cpu')
    batch_size = (features.shape[0] - K) // 2
    labels = labels.contiguous().view(-1, 1)
    mask = torch.eq(labels[:batch_size], labels.T).float().to(device)
    anchor_dot_contrast = torch.div(torch.matmul(features[:batch_size], features.T), temperature)
    anchor_dot_contrast = torch.cat(((sup_logits + torch.log(weight + 1e-9)) / supt, anchor_dot_contrast), dim=1)
    logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
    logits = anchor_dot_contrast - logits_max.detach()
    logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(batch_size).view(-1, 1).to(device), 0)
    mask = mask * logits_mask
    one_hot_label = torch.nn.functional.one_hot(labels[:batch_size, ].view(-1, ),
                                                num_classes=num_classes).to(torch.float32)
    mask = torch.cat((one_hot_label * beta, mask * alpha), dim=1)
    logits_mask = torch.cat((torch.ones(batch_size, num_classes).to(device), gamma * logits_mask), dim=1)
    exp_logits = torch.exp(logits) * logits_mask
    log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True) + 1e-12)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
    loss = - (temperature / base_temperature) * mean_log_prob_pos
    return loss.mean()


def authors_rotation(inputs, target):                                   # utils.py L12-21 (target given)
    batch = inputs.shape[0]
    image = torch.zeros_like(inputs)
    image.copy_(inputs)
    for i in range(batch):
        image[i, :, :, :] = torch.rot90(inputs[i, :, :, :], int(target[i]), [1, 2])
    return image


# --- shared random inputs ------------------------------------------------------------------------
def unit(*shape, gen):
    return F.normalize(torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)


def test_bcl_loss_matches_balscl(fidelity):
    gen = torch.Generator().manual_seed(0)
    for trial, (b, k, d, t) in enumerate([(16, 5, 8, 0.07), (32, 10, 16, 0.1), (7, 3, 4, 0.5)]):
        counts = [50, 20, 9, 4, 2, 1, 1, 1, 1, 1][:k]
        feats = unit(b, 2, d, gen=gen)
        centers = unit(k, d, gen=gen)
        y = torch.randint(0, k, (b,), generator=gen)
        ours = bcl_loss(centers.float(), feats.float(), y, t)
        theirs = authors_balscl(counts, t, centers.float(), feats.float(), y)
        fidelity("bcl", BCL_SRC, f"BalSCL loss (class-averaging, prototypes), τ={t}", ours, theirs)


def test_bcl_step_matches_the_authors_objective_in_train_mode(fidelity, monkeypatch):
    """One BCL step in train mode given the three views' backbone features: α·LogitAdjust(NormedLinear)
    + β·BalSCL with prototypes normalize(head_fc(W)), the projection head run once over all three
    views (its BatchNorm statistics from 3B samples, `BCLModel.forward`) — ours through the BCL
    term's own heads, theirs through copies of them."""
    torch.manual_seed(1)
    counts, d, b = [40, 12, 5, 2], 16, 12
    term = BCL(d, len(counts), counts, torch.device("cpu"), bcl_dim=8)
    head = NormedLinear(d, len(counts), 30.0)
    la = build_loss("la", counts)
    h = torch.randn(3 * b, d)
    y = torch.randint(0, len(counts), (b,))

    class Model(nn.Module):
        def features(self, x):
            return x

    model = Model()
    model.classifier = head
    term.train()                                            # the authors train in train mode
    authors_head, authors_head_fc = copy.deepcopy(term.head), copy.deepcopy(term.head_fc)
    term.gen, term.flip, term.mean, term.std = None, False, None, None
    monkeypatch.setattr("ltcore.methods.contrastive.two_views", lambda x, y, *rest: (h[b:2 * b], h[2 * b:], y))
    ours = term.training_loss(type("M", (), {"loss": la})(), model, h[:b], y)
    w_dk = head.weight.detach().t()                         # the authors store fc.weight as d×K
    logits = authors_normed_linear(w_dk, h[:b])
    feat_mlp = F.normalize(authors_head(h), dim=1)          # resnext.py L306: all 3B inputs at once
    _, f2, f3 = torch.split(feat_mlp, [b, b, b], dim=0)     # main.py L304-306
    centers = F.normalize(authors_head_fc(w_dk.T), dim=1)
    theirs = 1.0 * authors_logit_adjust(counts, logits, y) + 0.35 * authors_balscl(
        counts, 0.07, centers, torch.cat([f2.unsqueeze(1), f3.unsqueeze(1)], dim=1), y)
    fidelity("bcl", "FlamieZhu/Balanced-Contrastive-Learning main.py + models/resnext.py",
             "training step in train mode α·LA(NormedLinear s=30) + β·BalSCL, head over 3 views",
             ours.detach(), theirs.detach())


def test_kcl_logits_and_loss_match_the_authors(fidelity):
    gen = torch.Generator().manual_seed(2)
    for posk in (6, 1, None):
        b, dim, queue, classes = 24, 16, 96, 5
        q, k = unit(b, dim, gen=gen).float(), unit(b, dim, gen=gen).float()
        keys = unit(queue, dim, gen=gen).float()
        qlabels = torch.randint(-1, classes, (queue,), generator=gen)
        y = torch.randint(0, classes, (b,), generator=gen)
        logits, soft = kcl_logits(q, k, keys, qlabels, y, posk, 0.07)
        a_logits, a_soft = authors_kcl(q, k, keys.t().contiguous(), qlabels, y, posk, 0.07)
        fidelity("kcl", KCL_SRC, f"logits/τ, k={posk}", logits, a_logits)
        fidelity("kcl", KCL_SRC, f"k-positive soft targets, k={posk}", soft, a_soft)
        fidelity("kcl", KCL_SRC, f"soft-target CE loss, k={posk}", soft_cross_entropy(logits, soft),
                 authors_soft_ce(a_logits, a_soft))


def test_paco_loss_matches_the_authors(fidelity):
    gen = torch.Generator().manual_seed(3)
    for alpha, beta, gamma, t in [(0.01, 1.0, 1.0, 0.05), (0.05, 0.5, 0.8, 0.2)]:
        b, queue, dim, classes = 16, 64, 8, 6
        counts = [60, 30, 15, 8, 4, 2]
        feats = unit(2 * b + queue, dim, gen=gen).float()
        y = torch.randint(0, classes, (b,), generator=gen)
        labels = torch.cat([y, y, torch.randint(0, classes, (queue,), generator=gen)])
        sup = torch.randn(b, classes, generator=gen)
        n = torch.tensor(counts, dtype=torch.float32)
        ours = paco_loss(feats, labels, sup, (n / n.sum() + 1e-9).log(), alpha, beta, gamma, t)
        theirs = authors_paco(counts, alpha, beta, gamma, 1.0, t, None, queue, classes, feats, labels, sup)
        fidelity("paco", PACO_SRC, f"PaCo loss, α={alpha}", ours, theirs)


def test_ssp_rotation_matches_the_authors(fidelity):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(10, 3, 8, 8, generator=gen)
    t = rotation_targets(10, gen)
    assert sorted(torch.bincount(t, minlength=4).tolist()) == [2, 2, 3, 3]  # a balanced shuffled list
    fidelity("ssp", SSP_SRC, "rotated images (rot90 in the H, W plane)", rotate(x, t), authors_rotation(x, t))


def test_projection_head_is_the_authors_mlp():
    head = mlp_head(16, 4)
    kinds = [type(m) for m in head]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear] and head[3].out_features == 4


def kcl_context(n=40, classes=4, batch=8, seed=0):
    """A KCL term's MethodContext on n tiny random images (a flatten-linear backbone)."""
    from contextlib import nullcontext
    from types import SimpleNamespace

    from ltcore.data.device_loader import DeviceBatches
    from ltcore.methods.base import MethodContext

    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, 8, 8), generator=gen, dtype=torch.uint8)
    y = torch.arange(n) % classes

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.BatchNorm1d(16))
            self.classifier = nn.Linear(16, classes)

        def features(self, x):
            return self.backbone(x)

    batches = DeviceBatches(x, y, "cpu", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), augment="crop_flip")
    return MethodContext(config=SimpleNamespace(batch_size=batch), model=Net(), train_batches=batches,
                         device=torch.device("cpu"), gen=gen, autocast=nullcontext, emit=lambda e: None,
                         should_stop=lambda: False)


def test_kcl_queue_holds_real_labelled_keys_after_the_first_step():
    """The authors' `init_key_queue` (BalFeat main_kcl.py L193-229) fills the queue with the key
    encoder's keys of moco_k // batch training batches before epoch 0: after the first step every
    slot of a 32-key queue holds a training label (none is the empty −1) and a unit-norm key."""
    from ltcore.methods.contrastive import KCL

    ctx = kcl_context()
    term = KCL(16, 4, [10] * 4, torch.device("cpu"), kcl_queue=32, kcl_dim=8)
    term.attach(ctx)
    x, y = next(iter(ctx.train_batches.batches(torch.arange(8), 8)))
    term.training_loss(None, ctx.model, x, y)
    labels = term.queue.labels
    assert (labels >= 0).all(), f"{int((labels < 0).sum())} of 32 queue slots are still empty after the first step"
    assert torch.equal(labels[:8], y)                            # the first step's keys at the pointer
    assert torch.bincount(labels[8:], minlength=4).max() <= 10   # one pass: no image twice (10 per class)
    assert torch.allclose(term.queue.keys.norm(dim=1), torch.ones(32))
