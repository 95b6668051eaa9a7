"""Knowledge distillation from a teacher run: plain KD and Balanced Knowledge Distillation.

- KD (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network", §2): the student
  matches the teacher's softened distribution softmax(v/T) with T²·KL (the T² keeps the gradient's
  size independent of T, §2 last paragraph), added to the cross-entropy on the true labels.
- BKD (Zhang, Chen, Hu & Peng, "Balanced Knowledge Distillation for Long-tailed Learning",
  Neurocomputing 2023 / arXiv 2104.10510, Eq. 6–8): an instance-balanced CE plus a class-balanced
  KD term, the teacher's softened probabilities re-weighted per class by w_k and renormalised.

Both follow the authors' code, github.com/EricZsy/BalancedKnowledgeDistillation:
`losses.py` `KDLoss.forward` (L65-75, commit 168dd0a): loss = α·T²·KL_batchmean(softmax(t/T) ‖ log_softmax(s/T))
+ CE(s, y; weight=w) — the class weights w go into the CE;
`losses.py` `BKDLoss.forward` (L87-99): p̃_t = softmax(t/T)·w / Σ_k(softmax(t/T)·w), loss =
α·T²·Σ_k mean_i KL_ik + CE(s, y) — the CE is unweighted, w goes into the KD term.
w are the class-balanced weights of Cui et al. (`train_student.py` L223-237: `Reweight` from the
first epoch, `DRW` = β 0 before epoch 160 and 0.9999 after; L124-127 choose DRW on CIFAR-10 and
`Reweight` on every other set): here they are whatever the `reweight` slot gives the loss each
epoch, and the `bkd` preset's `reweight='by_dataset'` makes the authors' choice per data set.
Defaults are the authors' flags `--T 2.0` and `--alpha 1.0`. Note the authors (unlike Hinton's
paper, which averages the two terms) weight the KD term by α on top of a CE of weight 1; we follow
the code. The teacher scores the same (augmented, possibly mixed) batch as the student, in eval
mode and without gradient (`train_student.py` `train()` L302-304).

The teacher is `kd_teacher`: a stored run id (its model rebuilt from the run's stored config, its
weights the store's checksummed checkpoint), `@<method>` (the stored run of this same configuration
with that method and seed: `counterpart`; the job queue starts the student after it) or a `.pt`
state-dict file (the student's architecture;
read through the same check as `init_from`). Either is refused in one line when missing, of another
data set or of another class count.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, LTError
from .losses import ClassLoss
from .registries import LOSSES, number, text


def exact(x: torch.Tensor) -> torch.Tensor:
    """float32 maths (bf16 logits of autocast cast up); float64 inputs stay float64."""
    return x if x.dtype == torch.float64 else x.float()


def softened(teacher_logits: torch.Tensor, temperature: float,
             class_weight: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(t/T), or with class weights w (BKD Eq. 7) w_k·p_k / Σ_j w_j·p_j."""
    p = F.softmax(exact(teacher_logits) / temperature, dim=1)
    if class_weight is None:
        return p
    p = p * class_weight.to(p)
    return p / p.sum(1, keepdim=True)


def kd_term(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
            class_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample T²·KL(p_t ‖ softmax(s/T)), p_t = `softened(t, T, w)`; zero where p_t is zero."""
    target = softened(teacher_logits, temperature, class_weight)
    log_q = F.log_softmax(exact(student_logits) / temperature, dim=1)
    return (torch.xlogy(target, target) - target * log_q).sum(1) * temperature ** 2


def high_temperature_limit(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """lim_{T→∞} T²·KL per sample = (1/2K)·Σ_k (d_k − mean d)², d = s − t (Hinton et al. §2.1:
    at high temperature distillation matches centred logits)."""
    d = exact(student_logits) - exact(teacher_logits)
    d = d - d.mean(1, keepdim=True)
    return d.pow(2).sum(1) / (2 * d.shape[1])


class DistillationLoss(ClassLoss):
    """CE + α·(T²·KL to the teacher). `balanced=False`: KD (weights in the CE); True: BKD (weights in
    the teacher's distribution, CE unweighted). The teacher is loaded in `prepare`; `observe(x)` is
    called with each training batch before the loss and scores it with the teacher."""

    balanced = False

    def __init__(self, counts, kd_teacher: str = "", kd_temperature: float = 2.0, kd_alpha: float = 1.0,
                 weight=None):
        super().__init__(counts, weight)
        self.reference = str(kd_teacher or "").strip()
        self.temperature = float(kd_temperature)
        self.alpha = float(kd_alpha)
        self.teacher: nn.Module | None = None
        self.teacher_logits: torch.Tensor | None = None

    def prepare(self, ctx, kept) -> None:
        self.teacher = load_teacher(ctx, self.reference, self.num_classes)

    @torch.no_grad()
    def observe(self, x: torch.Tensor) -> None:
        if self.teacher is None:
            raise ConfigError("kd_teacher: the teacher was not loaded (the loss was used before prepare)")
        self.teacher_logits = self.teacher(x).float()

    def per_sample(self, logits, targets):
        return F.cross_entropy(logits, targets, reduction="none")

    def _ce(self, z, y_a, y_b=None, lam=None):
        weight = None if self.balanced else self.weight
        la = self.per_sample(z, y_a)
        if y_b is None:
            w = torch.ones_like(la) if weight is None else weight[y_a]
            return (w * la).sum() / w.sum()
        lb = self.per_sample(z, y_b)
        wa = lam * (1.0 if weight is None else weight[y_a])
        wb = (1 - lam) * (1.0 if weight is None else weight[y_b])
        return (wa * la + wb * lb).sum() / (wa + wb).sum()

    def distillation(self, logits: torch.Tensor) -> torch.Tensor:
        """The batch mean of the KD term on the last observed batch."""
        w = self.weight if self.balanced else None
        return kd_term(logits, self.teacher_logits, self.temperature, w).mean()

    def forward(self, logits, targets):
        z = logits.float()
        return self._ce(z, targets) + self.alpha * self.distillation(z)

    def mixed(self, logits, y_a, y_b, lam):
        z = logits.float()
        return self._ce(z, y_a, y_b, lam) + self.alpha * self.distillation(z)


class BalancedDistillationLoss(DistillationLoss):
    balanced = True


SAME_RUN = "@"


def counterpart(config, reference: str):
    """For `kd_teacher = "@<method>"`: this run's configuration with that method and no method
    parameters (same data, seed, model, schedule): the teacher trained beside it, as a lesson's
    `bkd` learns from the lesson's own `ce` run of the same seed. None for any other reference."""
    reference = str(reference or "").strip()
    if not reference.startswith(SAME_RUN):
        return None
    from .registries import PRESETS
    method = reference[len(SAME_RUN):]
    if method not in PRESETS:
        raise ConfigError(f"kd_teacher: {reference!r} names no method; write @ and a preset, e.g. @ce")
    return config.replace(method=method, method_params=[])


def resolve_reference(config, reference: str) -> str:
    """A stored run id for `@<method>` (see `counterpart`), any other reference as it is."""
    teacher = counterpart(config, reference)
    if teacher is None:
        return reference
    from ..version import store_run_id
    return store_run_id(teacher)


def load_teacher(ctx, reference: str, num_classes: int) -> nn.Module:
    """The teacher network (eval mode, frozen, on the run's device) for `reference`: a stored run
    id or a `.pt` file; a ConfigError in one line when it cannot be this run's teacher."""
    if not reference:
        raise ConfigError("kd_teacher: choose a teacher: a stored run id (`python -m ltcore runs list`), "
                          "@<method> or a .pt state-dict file")
    reference = resolve_reference(ctx.config, reference)
    if reference.endswith(".pt") or "/" in reference or "\\" in reference:
        from .compose import load_user_weights
        state = load_user_weights(reference, "kd_teacher")
        teacher = copy.deepcopy(ctx.model)
        source = f"file {Path(reference).name}"
    else:
        find_run = getattr(ctx, "find_run", None)
        if find_run is None:
            raise ConfigError(f"kd_teacher: {reference!r} looks like a run id, but this run has no run store "
                              "to look it up in; give the teacher's .pt file instead")
        try:
            config, state = find_run(reference)
        except LTError as exc:
            raise ConfigError(f"kd_teacher: {exc}") from None
        if config.dataset != ctx.config.dataset:
            raise ConfigError(f"kd_teacher: run {reference} was trained on {config.dataset}, this run is on "
                              f"{ctx.config.dataset}; choose a teacher trained on the same data set")
        teacher = teacher_model(config, ctx, num_classes)
        source = f"run {reference}"
    classes = teacher_classes(state)
    if classes is not None and classes != num_classes:
        raise ConfigError(f"kd_teacher: the teacher ({source}) has {classes} classes, this data set "
                          f"{num_classes}; choose a teacher trained on the same classes")
    try:
        teacher.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0] if first else ""
        raise ConfigError(f"kd_teacher: the weights of the teacher ({source}) do not fit its network "
                          f"({detail[:160]}); choose a teacher of this data set and model") from None
    teacher = teacher.to(ctx.device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def teacher_classes(state: dict) -> int | None:
    """Number of classes of a state dict: the rows of its classifier's weight (None if unknown)."""
    for key in ("classifier.weight", "classifier.linear.weight", "classifier.fc.weight"):
        w = state.get(key)
        if isinstance(w, torch.Tensor) and w.dim() >= 2:
            return int(w.shape[0])
    return None


def teacher_model(config, ctx, num_classes: int) -> nn.Module:
    """The teacher's network rebuilt from its run's config: its model (the data set's default for
    `auto`) with its method's changes and classifier head (`ctx.build_method`)."""
    from ..data import DATASETS
    from ..models import build_model

    if ctx.build_method is None:
        raise ConfigError("kd_teacher: this run cannot rebuild a stored run's network (no build_method in its "
                          "MethodContext); give the teacher's .pt file instead")
    meta = DATASETS.get(config.dataset).meta
    name = meta.get("model", "mlp") if config.model == "auto" else config.model
    in_shape = tuple(ctx.train_batches.x.shape[1:])
    _, model = ctx.build_method(config, [1] * num_classes, torch.device("cpu"),
                                lambda: build_model(name, in_shape, num_classes))
    return model


TEACHER = text("", "KD/BKD: the teacher, a stored run id (`runs list`) or a .pt state-dict file of "
               "this data set's model (read like init_from)")
TEMPERATURE = number(2.0, "KD/BKD: distillation temperature T (authors' --T)", lambda v: v > 0, "> 0")
ALPHA = number(1.0, "KD/BKD: weight α of the T²·KL term added to the CE (authors' --alpha)",
               lambda v: v >= 0, "≥ 0")
KD_PARAMS = {"kd_teacher": TEACHER, "kd_temperature": TEMPERATURE, "kd_alpha": ALPHA}

LOSSES.add("kd", DistillationLoss, "knowledge distillation: CE (class weights here) + α·T²·KL to a "
           "teacher run's softened outputs", paper="Hinton et al. 2015", params=KD_PARAMS)
LOSSES.add("bkd", BalancedDistillationLoss, "balanced knowledge distillation: instance-balanced CE + "
           "α·T²·KL to the teacher's class-weighted softened outputs", paper="Zhang et al. 2021 (BKD)",
           params=KD_PARAMS)
