"""Classifier heads, decoupled stage-2 procedures, samplers, mixing and NC regularisers against
transcriptions of the authors' code."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ltcore.methods.classifiers import LWSHead, NCMClassifier, NormedLinear, ncm_centroids, tau_normalize
from ltcore.methods.experts import ExpertHeads, aggregation_loss
from ltcore.methods.mixing import remix_label_weights
from ltcore.methods.regularizers import NCRegularizer, nc1_loss, nc2_loss, nc2_loss_min_angle
from ltcore.methods.samplers import ProgressiveSampler, class_probabilities
from ltcore.methods.stage2 import tau_logits

COUNTS = [500, 300, 160, 90, 50, 28, 15, 8, 5, 2]
K, D = len(COUNTS), 24


def features(n=400, seed=0, shift=0.7):
    """Random features with class structure (and a common offset, which cl2n removes)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.multinomial(torch.tensor(COUNTS, dtype=torch.float), n, replacement=True, generator=g)
    y[:K] = torch.arange(K)
    centres = torch.randn(K, D, generator=g)
    return centres[y] + shift * torch.randn(n, D, generator=g) + 2.0, y


# --- Kang et al. ICLR'20, facebookresearch/classifier-balancing --------------------------------
def authors_pnorm(weights, p):
    """tau_norm.py lines 102-107."""
    normB = torch.norm(weights, 2, 1)
    ws = weights.clone()
    for i in range(weights.size(0)):
        ws[i] = ws[i] / torch.pow(normB[i], p)
    return ws


def authors_tau_predictions(feat, weights, p):
    """tau_norm.py lines 82-86 and 88-100 (`dotproduct_similarity`, no bias) and 70-73 (argmax)."""
    return torch.mm(feat, authors_pnorm(weights, p).t()).max(dim=1)[1]


def test_tau_norm_has_no_bias_and_matches_pnorm(fidelity):
    h, _ = features(seed=1)
    g = torch.Generator().manual_seed(2)
    w = torch.randn(K, D, generator=g) * torch.linspace(3, 0.3, K)[:, None]
    for tau in np.linspace(0, 2, 21)[::4]:
        tau = float(tau)
        fidelity("tau_norm", "facebookresearch/classifier-balancing tau_norm.py `pnorm`",
                 f"τ-normalised weights, τ={tau:.1f}", tau_normalize(w, tau), authors_pnorm(w, tau))
        fidelity("tau_norm", "classifier-balancing tau_norm.py (dot product, no bias, argmax)",
                 f"predictions, τ={tau:.1f}", tau_logits(h, w, tau).argmax(1),
                 authors_tau_predictions(h, w, tau), choice=True)


def authors_knn_centroids(feats, labels):
    """run_networks.py lines 631-652 (`get_knncentroids`, the 'cl2n' centres), numpy as theirs."""
    featmean = feats.mean(axis=0)
    cl2n = torch.Tensor(feats.copy()) - torch.Tensor(featmean)
    cl2n = (cl2n / torch.norm(cl2n, 2, 1, keepdim=True)).numpy()
    centroids = np.stack([np.mean(cl2n[labels == i], axis=0) for i in np.unique(labels)])
    return featmean, centroids


def authors_knn_forward(inputs, centroids, feat_mean):
    """models/KNNClassifier.py lines 41-75 (feat_type 'cl2n', dist_type 'l2')."""
    inputs = inputs - feat_mean
    inputs = inputs / torch.norm(inputs, 2, 1, keepdim=True)
    AB = torch.mm(inputs, centroids.t())
    AA = (inputs ** 2).sum(dim=1, keepdim=True)
    BB = (centroids ** 2).sum(dim=1, keepdim=True)
    return -(AA + BB.t() - 2 * AB)


def test_ncm_cl2n_squared_euclidean(fidelity):
    h, y = features(seed=3)
    mean, cents = authors_knn_centroids(h.numpy(), y.numpy())
    our_mean, our_cents = ncm_centroids(h, y, K)
    fidelity("ncm", "classifier-balancing run_networks.py `get_knncentroids`", "cl2n class centroids",
             our_cents, cents)
    test, _ = features(seed=4)
    theirs = authors_knn_forward(test, torch.tensor(cents), torch.tensor(mean))
    ours = NCMClassifier(our_mean, our_cents)(test)
    fidelity("ncm", "classifier-balancing models/KNNClassifier.py (cl2n, l2)", "NCM logits (−squared distance)",
             ours, theirs)
    fidelity("ncm", "classifier-balancing models/KNNClassifier.py (cl2n, l2)", "NCM predictions",
             ours.argmax(1), theirs.argmax(1), choice=True)


def test_lws_head(fidelity):
    # models/TauNormClassifier.py lines 16-29: fc frozen, z = fc(x) * scales
    h, _ = features(seed=5)
    base = nn.Linear(D, K)
    head = LWSHead(base, K)
    with torch.no_grad():
        head.scales.copy_(torch.linspace(-0.5, 2.0, K))
    theirs = base(h) * head.scales
    fidelity("lws", "classifier-balancing models/TauNormClassifier.py", "LWS logits", head(h), theirs)
    assert not any(p.requires_grad for p in base.parameters())


def test_crt_stage_two_keeps_batchnorm_in_train_mode(fidelity):
    """run_networks.py lines 115-120 (`fix`: only requires_grad = False) and 248-249 (every network
    `.train()` each epoch): the frozen backbone's BatchNorm normalises with batch statistics and
    keeps updating its running statistics. The authors' loop is replayed on the same batches (their
    class-aware sampler's draws are checked by themselves in test_samplers.py)."""
    import copy
    from contextlib import nullcontext
    from types import SimpleNamespace

    from ltcore.data import DeviceBatches
    from ltcore.methods import build_loss
    from ltcore.methods.samplers import ClassAwareSampler
    from ltcore.methods.stage2 import train_head
    from ltcore.models import build_model

    torch.manual_seed(16)
    g = torch.Generator().manual_seed(17)
    y = torch.multinomial(torch.tensor(COUNTS, dtype=torch.float), 300, replacement=True, generator=g)
    x = (torch.rand(300, 1, 8, 8, generator=g) * 255).to(torch.uint8)
    model = build_model("cnn", (1, 8, 8), K)
    start = copy.deepcopy(model)
    config = SimpleNamespace(batch_size=64, lr=0.1, momentum=0.9, weight_decay=2e-4)
    trainer = SimpleNamespace(model=model, config=config, gen=torch.Generator().manual_seed(5),
                              train_batches=DeviceBatches(x, y, "cpu", [0.5], [0.25]),
                              autocast=nullcontext, emit=lambda e: None, should_stop=lambda: False,
                              device=torch.device("cpu"))
    method = SimpleNamespace(loss=build_loss("ce", COUNTS), num_classes=K,
                             kept_indices=lambda labels: torch.arange(len(labels)))
    head = nn.Linear(model.feature_dim, K)
    theirs_head = copy.deepcopy(head)
    train_head(method, trainer, head, "crt", 2, None)

    # the authors' way: feat_model params frozen, every network in train(), class-balanced batches
    feat = start.backbone
    for p in feat.parameters():
        p.requires_grad = False
    opt = torch.optim.SGD(theirs_head.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    gen = torch.Generator().manual_seed(5)
    sampler = ClassAwareSampler(per_class=4)
    for epoch in range(2):
        for group in opt.param_groups:
            group["lr"] = 0.1 * 0.5 * (1 + math.cos(math.pi * epoch / 2))
        feat.train()
        theirs_head.train()
        order = sampler.order(y, epoch, gen)
        for s in range(0, len(order), 64):
            idx = order[s:s + 64]
            xb = (x[idx].float() / 255.0 - 0.5) / 0.25
            loss = F.cross_entropy(theirs_head(feat(xb)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    ours_bn = [m.running_mean for m in model.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    theirs_bn = [m.running_mean for m in feat.modules() if isinstance(m, nn.BatchNorm2d)]
    fidelity("crt", "classifier-balancing run_networks.py lines 115-120, 248-249",
             "stage 2 on a BN backbone: BatchNorm running means", torch.cat(ours_bn), torch.cat(theirs_bn))
    fidelity("crt", "classifier-balancing run_networks.py lines 115-120, 248-249",
             "stage 2 on a BN backbone: re-trained classifier", head.weight, theirs_head.weight)
    for a, b in zip(model.backbone.parameters(), start.backbone.parameters()):
        assert torch.equal(a, b) and a.requires_grad  # weights frozen, unfrozen again afterwards


# --- Cao et al. NeurIPS'19 (NormedLinear) and SADE's experts ---------------------------------------
class AuthorsNormedLinear(nn.Module):
    """kaidic/LDAM-DRW models/resnet_cifar.py lines 37-46."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.Tensor(in_features, out_features))
        self.weight.data.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x):
        return F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))


def test_normed_linear_init_and_forward(fidelity):
    torch.manual_seed(7)
    theirs = AuthorsNormedLinear(D, K)
    torch.manual_seed(7)
    ours = NormedLinear(D, K)
    fidelity("ldam", "kaidic/LDAM-DRW models/resnet_cifar.py `NormedLinear`", "seeded init (unit class vectors)",
             ours.weight, theirs.weight.t())
    h, _ = features(seed=8)
    fidelity("ldam", "LDAM-DRW `NormedLinear.forward`", "cosine logits", ours(h), theirs(h))
    assert ours.weight.norm(dim=1).sub(1).abs().max() < 1e-5


def test_sade_expert_heads_and_aggregation_loss(fidelity):
    # expert_resnet_cifar.py lines 40-49 (NormedLinear), 166-176 (logits × s, s = 30), 196 (mean)
    torch.manual_seed(9)
    heads = ExpertHeads(3 * D, K)
    h = torch.randn(200, 3 * D, generator=torch.Generator().manual_seed(10))
    blocks = h.chunk(3, dim=1)
    outs = []
    for head, b in zip(heads.heads, blocks):
        authors = AuthorsNormedLinear(D, K)
        authors.weight.data.copy_(head.weight.data.t())
        outs.append(authors(b) * 30)
    stacked = torch.stack(outs, dim=1)
    fidelity("sade", "Vanint/SADE-AgnosticLT expert_resnet_cifar.py `_separate_part`, `forward`",
             "expert logits (s = 30)", heads.expert_logits(h).transpose(0, 1), stacked)
    fidelity("sade", "SADE expert_resnet_cifar.py line 196", "averaged prediction", heads(h), stacked.mean(dim=1))
    # test_training_cifar.py lines 312-313 and 367-376: softmax weights, cosine of the two views
    theta = torch.tensor([0.2, 0.5, -0.1])
    z0, z1 = stacked, stacked + 0.5 * torch.randn(stacked.shape, generator=torch.Generator().manual_seed(11))
    a = torch.softmax(theta, 0)
    agg0 = a[0] * z0[:, 0] + a[1] * z0[:, 1] + a[2] * z0[:, 2]
    agg1 = a[0] * z1[:, 0] + a[1] * z1[:, 1] + a[2] * z1[:, 2]
    cos = nn.CosineSimilarity(dim=1, eps=1e-6)
    theirs = -cos(F.softmax(agg0, dim=1), F.softmax(agg1, dim=1)).mean()
    fidelity("sade", "SADE test_training_cifar.py `test_training`", "test-time aggregation loss",
             aggregation_loss(theta, z0.transpose(0, 1), z1.transpose(0, 1)), theirs)


# --- Kang et al. / BagofTricks-LT samplers ----------------------------------------------------------
def authors_bot_probabilities(num_list, epoch, max_epoch):
    """zhangyongshun/BagofTricks-LT lib/dataset/cao_cifar.py lines 81-84 and 87-90 (epoch 1-based)."""
    instance_p = np.array([num / sum(num_list) for num in num_list])
    class_p = np.array([1 / len(num_list) for _ in num_list])
    sq = [math.sqrt(num) for num in num_list]
    square_p = np.array([num / sum(sq) for num in sq])
    progress_p = epoch / max_epoch * class_p + (1 - epoch / max_epoch) * instance_p
    return instance_p, class_p, square_p, progress_p


def test_sampler_class_probabilities(fidelity):
    n = torch.tensor(COUNTS)
    epochs = 12
    sampler = ProgressiveSampler(COUNTS, epochs)
    for e in range(epochs):
        ib, cb, sq, prog = authors_bot_probabilities(COUNTS, e + 1, epochs)
        fidelity("progressive", "BagofTricks-LT lib/dataset/cao_cifar.py `update` (epochs 1…T)",
                 f"class probabilities, epoch {e + 1}/{epochs}", sampler.probabilities(n, e), prog)
    fidelity("cbs", "BagofTricks-LT lib/dataset/cao_cifar.py line 82", "class probabilities",
             class_probabilities(n, 0.0), cb)
    fidelity("sqrt", "BagofTricks-LT lib/dataset/cao_cifar.py lines 83-84", "class probabilities",
             class_probabilities(n, 0.5), sq)
    assert sampler.probabilities(n, epochs - 1).tolist() == class_probabilities(n, 0.0).tolist()


def test_remix_label_weights(fidelity):
    # BagofTricks-LT lib/core/combiner.py lines 133-138 (`remix`)
    g = torch.Generator().manual_seed(12)
    n = torch.tensor(COUNTS, dtype=torch.float)
    ya, yb = torch.randint(0, K, (256,), generator=g), torch.randint(0, K, (256,), generator=g)
    for lam in (0.1, 0.45, 0.55, 0.9):
        l_list = torch.empty(256).fill_(lam).float()
        n_i, n_j = n[ya], n[yb]
        if lam < 0.5:
            l_list[n_i / n_j >= 3.0] = 0
        if 1 - lam < 0.5:
            l_list[(n_i * 3.0) / n_j <= 1] = 1
        fidelity("remix", "BagofTricks-LT lib/core/combiner.py `remix`", f"label weights, λ={lam}",
                 remix_label_weights(n_i, n_j, lam, 3.0, 0.5), l_list)


# --- Liu et al. AISTATS'23, Pepper-lll/NCfeature ------------------------------------------------------
def authors_nc1(x, labels, means):
    """losses.py lines 80-102 (`NC1Loss.forward`), .cuda() dropped."""
    batch_size, num_classes = x.size(0), means.size(0)
    distmat = torch.pow(x, 2).sum(dim=1, keepdim=True).expand(batch_size, num_classes) + \
        torch.pow(means, 2).sum(dim=1, keepdim=True).expand(num_classes, batch_size).t()
    distmat = distmat.addmm(x, means.t(), beta=1, alpha=-2)
    classes = torch.arange(num_classes).long()
    mask = labels.unsqueeze(1).expand(batch_size, num_classes).eq(classes.expand(batch_size, num_classes))
    D_ = torch.sum(distmat * mask.float(), dim=0)
    N = mask.float().sum(dim=0) + 1e-10
    return (D_ / N).clamp(min=1e-12, max=1e+12).sum() / num_classes


def authors_nc2(means, v1=False):
    """losses.py lines 147-164 (`NC2Loss`, v0) and 166-184 (`NC2Loss_v1`)."""
    centered_mean = means - means.mean(dim=0)
    means_ = F.normalize(centered_mean, p=2, dim=1)
    cosine = torch.matmul(means_, means_.t())
    cosine = cosine - 2. * torch.diag(torch.diag(cosine))
    if v1:
        return -torch.acos(cosine.max().clamp(-0.99999, 0.99999))
    return -torch.acos(cosine.max(dim=1)[0].clamp(-0.99999, 0.99999)).mean()


def test_nc_regularisers(fidelity):
    h, y = features(n=128, seed=13)
    h, y = h[:100], y[:100]  # some classes absent
    means = torch.randn(K, D, generator=torch.Generator().manual_seed(14))
    fidelity("nc_reg", "Pepper-lll/NCfeature losses.py `NC1Loss`", "NC1 loss (absent classes → 0)",
             nc1_loss(h, y, means), authors_nc1(h, y, means))
    fidelity("nc_reg", "NCfeature losses.py `NC2Loss` (v0, default)", "NC2 loss: mean of per-class min angles",
             nc2_loss(means), authors_nc2(means))
    fidelity("nc_reg", "NCfeature losses.py `NC2Loss_v1`", "NC2 loss: global min angle (option nc_min_angle)",
             nc2_loss_min_angle(means), authors_nc2(means, v1=True))


def test_nc_class_means_update_step(fidelity):
    # engine.py lines 89-97: backward of sup + λ1 NC1 + λ2 NC2, means' grad × 1/λ1, SGD(lr = α = 0.5)
    h, y = features(n=64, seed=15)
    lam1, lam2 = 0.01, 0.1
    reg = NCRegularizer(D, K, "cpu", lam1, lam2, 0.5, seed=3)
    theirs = nn.Parameter(reg.means.detach().clone())
    opt = torch.optim.SGD([theirs], lr=0.5)
    loss = lam1 * authors_nc1(h, y, theirs) + lam2 * authors_nc2(theirs)
    opt.zero_grad()
    loss.backward()
    theirs.grad.data *= 1.0 / lam1
    opt.step()
    reg(h, y).backward()
    reg.step()
    fidelity("nc_reg", "NCfeature engine.py lines 89-97", "class means after one update", reg.means, theirs)


def test_nc_reg_training_epoch_equals_the_authors_loop(fidelity):
    """A whole epoch of ltcore's `nc_reg` Trainer against engine.py `train` lines 44-66 and 89-97:
    one forward gives (feature, output), loss = CE + λ1·NC1 + λ2·NC2 on the learnable means, the
    model's SGD (momentum, weight decay) steps, then the means' gradient × 1/λ1 and their own SGD
    (lr α = 0.5, train.py line 223). Same initial weights, means and batch order."""
    import copy

    from ltcore import Config, Trainer
    from ltcore.engine.trainer import lr_at, prepare_data

    config = Config(dataset="gaussians_hd", ratio=10, epochs=1, batch_size=256, method="nc_reg",
                    method_params={"lambda1": 0.05, "lambda2": 0.5}, device="cpu")
    trainer = Trainer(config, data=prepare_data(config), save_checkpoints=False)
    theirs_model = copy.deepcopy(trainer.model)
    theirs_means = nn.Parameter(trainer.method.regularizer.means.detach().clone())
    state = trainer.gen.get_state()
    order = trainer.method.epoch_order(trainer.train_batches.y, 0, trainer.gen)
    trainer.gen.set_state(state)
    trainer.train_epoch(0)

    lam1, lam2 = 0.05, 0.5
    opt_model = torch.optim.SGD(theirs_model.parameters(), lr=lr_at(config, 0), momentum=config.momentum,
                                weight_decay=config.weight_decay)
    opt_ft = torch.optim.SGD([theirs_means], lr=0.5)
    theirs_model.train()
    for x, y in trainer.train_batches.batches(order, config.batch_size):
        feature = theirs_model.features(x)
        output = theirs_model.classifier(feature)
        loss = F.cross_entropy(output, y) + lam1 * authors_nc1(feature, y, theirs_means) \
            + lam2 * authors_nc2(theirs_means)
        opt_ft.zero_grad()
        opt_model.zero_grad()
        loss.backward()
        opt_model.step()
        theirs_means.grad.data *= 1.0 / lam1
        opt_ft.step()
    ours = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    theirs = torch.cat([p.detach().flatten() for p in theirs_model.parameters()])
    fidelity("nc_reg", "NCfeature engine.py `train` lines 44-66, 89-97", "model weights after one epoch",
             ours, theirs)
    fidelity("nc_reg", "NCfeature engine.py `train` lines 44-66, 89-97", "class means after one epoch",
             trainer.method.regularizer.means, theirs_means)
