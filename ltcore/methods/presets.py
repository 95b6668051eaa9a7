"""The named presets users know: each is one `preset(...)` line choosing slot entries and defaults."""
from __future__ import annotations

from .compose import SLOT_DEFAULTS, ComposedMethod
from .registries import PRESETS, SLOTS

FAMILIES = ("baseline", "re-sampling", "cost-sensitive", "logit adjustment", "information augmentation",
            "module improvement", "ensemble")
"""Method families after the survey taxonomy (Zhang et al. TPAMI'23), in listing order; the only list."""
BASE, RS, CS, LA, AUG, MOD, ENS = FAMILIES


def preset(name: str, description: str, paper: str, family: str, requires: tuple = (), **settings) -> None:
    """Register a ComposedMethod preset; `settings` are slot choices and hyper-parameter defaults.

    meta `params` lists what is distinctive (non-default slots and their hyper-parameters), meta
    `slots` the full slot choice; every preset also takes any slot/common override.
    """
    if family not in FAMILIES:
        raise ValueError(f"preset {name!r}: family {family!r} is not one of {FAMILIES}")
    slots = {**SLOT_DEFAULTS, **{k: v for k, v in settings.items() if k in SLOTS}}
    params = {k: v for k, v in slots.items() if v != SLOT_DEFAULTS[k]}
    for slot, choice in slots.items():
        params.update(SLOTS[slot].get(choice).meta.get("params", {}))
    params.update({k: v for k, v in settings.items() if k not in SLOTS})
    PRESETS.add(name, ComposedMethod, description, paper=paper, family=family, params=params,
                slots=slots, requires=tuple(requires))


preset("ce", "plain cross-entropy with instance-balanced sampling (the baseline)", "—", BASE)
preset("ros", "random over-sampling: tail images repeated up to the largest class", "Buda et al. "
       "Neural Networks'18", RS, sampler="ros")
preset("rus", "random under-sampling: head images dropped down to the smallest class", "Buda et al. "
       "Neural Networks'18", RS, sampler="rus")
preset("cbs", "class-balanced sampling: every class equally likely per draw", "Kang et al. ICLR'20",
       RS, sampler="class_balanced")
preset("sqrt", "square-root sampling: class probability ∝ √n_k", "Mahajan et al. ECCV'18; Kang et "
       "al. ICLR'20", RS, sampler="sqrt")
preset("progressive", "progressively-balanced sampling: instance- to class-balanced over training",
       "Kang et al. ICLR'20", RS, sampler="progressive")
preset("inv_ce", "cross-entropy weighted by inverse class frequency", "classic; Cui et al. CVPR'19 "
       "with β → 1", CS,
       loss="inv_ce")
preset("cb_ce", "class-balanced cross-entropy (effective number of samples, β)", "Cui et al. CVPR'19",
       CS, loss="cb_ce")
preset("focal", "focal loss, γ = 1 as in the LDAM-DRW CIFAR code", "Lin et al. ICCV'17", CS, loss="focal")
preset("cb_focal", "class-balanced focal loss (β, γ)", "Cui et al. CVPR'19", CS, loss="cb_focal")
preset("ldam", "LDAM margin loss on a normalised classifier (s, max margin)", "Cao et al. NeurIPS'19",
       CS, loss="ldam", classifier="normed")
preset("ldam_drw", "LDAM + deferred re-weighting (β-weights from 0.8·epochs)", "Cao et al. NeurIPS'19",
       CS, loss="ldam", classifier="normed", reweight="drw")
preset("ce_drw", "cross-entropy + deferred re-weighting (β-weights from 0.8·epochs)",
       "Cao et al. NeurIPS'19", CS, reweight="drw")
preset("la_posthoc", "post-hoc logit adjustment of a CE model: predict argmax z − τ log π",
       "Menon et al. ICLR'21", LA, posthoc="logit_adjust")
preset("la_loss", "logit-adjusted loss: CE on z + τ log π", "Menon et al. ICLR'21", LA, loss="la")
preset("balanced_softmax", "balanced softmax: CE on z + log n_k", "Ren et al. NeurIPS'20", LA,
       loss="balanced_softmax")
preset("mixup", "mixup of image pairs and labels (α)", "Zhang et al. ICLR'18", AUG, mixing="mixup")
preset("remix", "Remix: mixup with labels pushed to the minority class (κ, τ)", "Chou et al. ECCVW'20",
       AUG, mixing="remix")
preset("remix_drw", "Remix + deferred re-weighting", "Chou et al. ECCVW'20", AUG, mixing="remix",
       reweight="drw")
preset("cmo", "CMO: minority images pasted into majority backgrounds (CutMix), with balanced softmax",
       "Park et al. CVPR'22", AUG, mixing="cmo", loss="balanced_softmax")
preset("transfer", "cross-entropy starting from a previous run's weights (init_from = a .pt file)",
       "Zhang et al. TPAMI'23 survey §3.2.1", AUG, requires=("init_from",), init_from="")
preset("kd", "knowledge distillation from a teacher run: CE + α·T²·KL to its softened outputs (T = 2)",
       "Hinton et al. 2015", AUG, requires=("kd_teacher",), loss="kd")
preset("bkd", "balanced knowledge distillation: plain CE + KL to the teacher's class-balanced outputs, "
       "weights deferred (DRW) on CIFAR-10 and from epoch 0 on other data sets, as the authors",
       "Zhang et al. 2021 (BKD)", AUG, requires=("kd_teacher",), loss="bkd", reweight="by_dataset")
preset("crt", "decoupling: CE stage 1, then classifier re-training with class-balanced sampling",
       "Kang et al. ICLR'20", MOD, stage2="crt")
preset("tau_norm", "decoupling: CE stage 1, then τ-normalised classifier without bias (τ picked on the "
       "balanced validation split)", "Kang et al. ICLR'20", MOD, stage2="tau_norm")
preset("lws", "decoupling: CE stage 1, then learnable per-class weight scaling (a scale turns negative "
       "when stage 1 under-fits a class: flagged as lws_negative, shown in Compare)",
       "Kang et al. ICLR'20", MOD, stage2="lws")
preset("ncm", "decoupling: CE stage 1, then nearest-class-mean classifier", "Kang et al. ICLR'20",
       MOD, stage2="ncm")
preset("cosine", "cross-entropy on a cosine classifier s·cos(h, w_k)", "Gidaris & Komodakis CVPR'18",
       MOD, classifier="cosine")
preset("etf_dr", "fixed simplex-ETF classifier + dot-regression loss (per-sample γ/n_y), with mixup "
       "α = 1 as in the authors' CIFAR configs", "Yang et al. NeurIPS'22", MOD,
       classifier="etf", loss="dot_regression", mixing="mixup")
preset("nc_reg", "cross-entropy + neural-collapse regularisers NC1/NC2 (λ1, λ2)",
       "Liu et al. AISTATS'23", MOD, regularizer="nc")
preset("sade", "SADE's training stage without test-time aggregation: three experts (plain, balanced, "
       "inverse-prior) on a shared backbone, averaged; stage2=test_time_aggregation adds the authors' "
       "expert weighting", "Zhang et al. NeurIPS'22 (averaged experts)", ENS, classifier="experts", loss="sade")
preset("bcl", "BCL: balanced supervised contrastive loss (class-averaging, class prototypes) on two views "
       "beside a logit-compensated cosine classifier", "Zhu et al. CVPR'22", MOD, contrast="bcl", loss="la",
       classifier="cosine", cos_scale=30.0)
preset("kcl", "KCL: k-positive contrastive representation on a MoCo queue, then a classifier re-trained on "
       "the frozen features", "Kang et al. ICLR'21", MOD, contrast="kcl", stage2="crt")
preset("paco", "PaCo: parametric contrastive loss, the classifier's logit-compensated centres beside a MoCo "
       "queue", "Cui et al. ICCV'21", MOD, contrast="paco")
preset("ssp", "SSP: self-supervised pre-training on the training images (labels unused), then cross-entropy "
       "from it", "Yang & Xu NeurIPS'20", AUG, pretext="ssp")
preset("crest", "CReST: self-training in generations; the most confident pseudo-labels of an unlabelled pool "
       "join the labelled set, tail classes more often (μ_k = (N_{K+1−k}/N_1)^α)", "Wei et al. CVPR'21", AUG,
       stage2="crest")
