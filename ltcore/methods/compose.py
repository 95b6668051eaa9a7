"""A method composed from one entry per slot: sampler × loss × classifier × re-weighting schedule ×
mixing × feature regulariser × post-hoc adjustment × second stage (plus a held-out split and a
transfer initialisation). Every preset is a ComposedMethod with different slot choices."""
from __future__ import annotations

import numpy as np
import torch

from ..engine.checkpoints import find_checkpoint, find_checkpoint_meta, load_user_checkpoint, save_checkpoint
from ..errors import ConfigError, LTError
from .base import Method, MethodContext
from .losses import build_loss
from .registries import (AUGMENTATIONS, CLASSIFIERS, CONTRASTIVE, LOSSES, POSTHOC, PRETEXT, REGULARIZERS,
                         REWEIGHTING, SAMPLERS, SLOTS, STAGE2, declare, number, text)

SLOT_DEFAULTS = {"sampler": "instance", "loss": "ce", "classifier": "linear", "mixing": "none",
                 "reweight": "none", "regularizer": "none", "posthoc": "none", "stage2": "none",
                 "contrast": "none", "pretext": "none"}
COMMON_SPECS = {
    "holdout": number(0.0, "fraction of each class held out of training as an extra validation split "
                      "(stratified, ≥1 per class with ≥2 images; None = 0). Hyper-parameters are picked "
                      "on the data set's balanced validation split; this one is only used when it is empty",
                      lambda v: 0 <= v < 1, "in [0, 1)", optional=True),
    "init_from": text("", "transfer: start from this state-dict file (.pt), loaded with "
                      "weights_only=True; empty = random init"),
}
for _name, _spec in COMMON_SPECS.items():
    declare(_name, _spec, "every preset")
COMMON = {name: spec.default for name, spec in COMMON_SPECS.items()}
"""Parameters every composed preset takes besides its slots' hyper-parameters."""
STAGE1_SLOTS = ("sampler", "loss", "classifier", "mixing", "reweight", "regularizer", "contrast", "pretext")
MEASUREMENT_ONLY = {"nc_every": 0, "snapshot_epochs": ()}
"""Config fields that change what is measured, not the trained model (left out of stage-1 keys)."""


def slot_choices(params: dict) -> dict:
    return {slot: params.get(slot, default) for slot, default in SLOT_DEFAULTS.items()}


def slot_params(slot: str, name: str, params: dict) -> dict:
    """The hyper-parameters of slot entry `name`, from `params` or the entry's defaults."""
    defaults = SLOTS[slot].get(name).meta.get("params", {})
    return {k: params.get(k, v) for k, v in defaults.items()}


def holdout_fraction(params: dict) -> float:
    """`holdout` as a fraction (None = 0: nothing is taken out of the training set)."""
    value = params.get("holdout", 0.0)
    return 0.0 if value is None else float(value)


def check_combination(params: dict) -> None:
    """Reject slot combinations that cannot train, with what to change: each chosen entry's rules
    about the other slots live in its registry meta (`classifier` of a loss, `needs`: registries.Needs)."""
    c = slot_choices(params)
    for slot, name in c.items():
        meta = SLOTS[slot].get(name).meta
        wanted = meta.get("classifier")
        if wanted and c["classifier"] != wanted:
            raise ConfigError(f"{slot} {name!r} needs classifier {wanted!r}, got {c['classifier']!r}")
        for rule in meta.get("needs", ()):
            if rule.broken_by(c[rule.slot]):
                raise ConfigError(f"{slot} {name!r} " + rule.why.format(choice=c[rule.slot]))


def stage1_params(params: dict) -> dict:
    """The parameters that shape the main (stage-1) loop and differ from plain `ce`."""
    c = slot_choices(params)
    keys = set(STAGE1_SLOTS) | set(COMMON)
    for slot in STAGE1_SLOTS:
        keys |= set(SLOTS[slot].get(c[slot]).meta.get("params", {}))
    base = {**SLOT_DEFAULTS, **COMMON}
    resolved = {**params, "holdout": holdout_fraction(params)}
    return {k: resolved[k] for k in sorted(keys) if k in resolved and (k not in base or resolved[k] != base[k])}


def stage1_config(config, params: dict):
    """The `ce` run whose model is this method's stage 1 (fields that do not shape training reset)."""
    return config.replace(method="ce", method_params=stage1_params(params), **MEASUREMENT_ONLY)


def load_user_weights(path: str, field: str) -> dict:
    """A state dict from a file a user named in parameter `field` (`init_from`, `kd_teacher`): the
    shared server's path check, then plain tensors only (`load_user_checkpoint`); a ConfigError
    naming the field when it cannot be."""
    try:
        return load_user_checkpoint(path)
    except LTError as exc:  # outside the allowed roots, missing, not a weights file
        raise ConfigError(f"{field}: {exc}") from None


def stratified_holdout(labels: torch.Tensor, fraction: float, seed: int):
    """(kept, held-out) sorted indices: round(fraction·n_k) of each class (≥ 1, and ≥ 1 kept) held out."""
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(seed)
    kept, held = [], []
    for k in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == k).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        m = min(max(1, round(fraction * len(idx))), len(idx) - 1)
        held.append(idx[:m])
        kept.append(idx[m:])
    return torch.cat(kept).sort().values, torch.cat(held).sort().values


class ComposedMethod(Method):
    """The Trainer's hooks, each delegated to the chosen slot entry (see registries.SLOTS)."""

    def __init__(self, params: dict, counts: list[int], epochs: int, device: torch.device):
        super().__init__(params, counts, epochs, device)
        check_combination(self.params)
        self.choice = slot_choices(self.params)
        self.train_idx = self.val_idx = None
        self.gen = torch.Generator(device=device).manual_seed(0)
        self.np_rng = np.random.default_rng(0)
        self.regularizer = None
        self.contrast = None
        self.info: dict = {}
        self.stage1_config = None
        self.reused_stage1 = False
        self.stage1_meta: dict = {}
        self._build(self.counts)

    def slot(self, name: str) -> dict:
        return slot_params(name, self.choice[name], self.params)

    def _build(self, counts: list[int]) -> None:
        """(Re)build the count-dependent slots for training counts n_k."""
        self.counts = list(counts)
        self.prior = torch.tensor(counts, dtype=torch.float32, device=self.device) / max(sum(counts), 1)
        self.sampler = SAMPLERS.get(self.choice["sampler"]).obj(counts, self.epochs, **self.slot("sampler"))
        self.loss = build_loss(self.choice["loss"], counts, **self.slot("loss")).to(self.device)
        self.reweight = REWEIGHTING.get(self.choice["reweight"]).obj(counts, self.epochs, **self.slot("reweight"))
        self.mixer = AUGMENTATIONS.get(self.choice["mixing"]).obj(counts, **self.slot("mixing"))
        self.posthoc = POSTHOC.get(self.choice["posthoc"]).obj(counts, **self.slot("posthoc"))
        self.pretext = PRETEXT.get(self.choice["pretext"]).obj(**self.slot("pretext"))

    def new_head(self, feat_dim: int) -> torch.nn.Module:
        return CLASSIFIERS.get(self.choice["classifier"]).obj(feat_dim, self.num_classes,
                                                              **self.slot("classifier"))

    def make_classifier(self, feat_dim: int) -> torch.nn.Module:
        self.regularizer = REGULARIZERS.get(self.choice["regularizer"]).obj(
            feat_dim, self.num_classes, self.device, **self.slot("regularizer"))
        self.contrast = CONTRASTIVE.get(self.choice["contrast"]).obj(
            feat_dim, self.num_classes, self.counts, self.device, **self.slot("contrast"))
        head = self.new_head(feat_dim)
        if hasattr(self.loss, "init_head"):
            self.loss.init_head(head)
        return head

    def adapt_model(self, model: torch.nn.Module) -> None:
        """A classifier that needs its own backbone says so in its meta (`backbone`: SADE's experts
        make it shared early layers + one branch per expert)."""
        rebuild = CLASSIFIERS.get(self.choice["classifier"]).meta.get("backbone")
        if rebuild is not None:
            model.backbone = rebuild(model.backbone)

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        """The model's parameters, and a contrastive term's projection head(s) beside them; the
        classifier's bias in a group without weight decay when the loss says so (Cui et al.'s
        sigmoid/focal losses)."""
        params = [p for p in model.parameters() if p.requires_grad]
        if self.contrast is not None:
            params += [p for p in self.contrast.parameters() if p.requires_grad]
        bias = getattr(getattr(model, "classifier", None), "bias", None)
        if getattr(self.loss, "decay_head_bias", True) or not isinstance(bias, torch.Tensor):
            return [{"params": params}]
        return [{"params": [p for p in params if p is not bias]}, {"params": [bias], "weight_decay": 0.0}]

    def kept_indices(self, labels: torch.Tensor) -> torch.Tensor:
        """Indices of the training samples used for training (all but the held-out split)."""
        return self.train_idx if self.train_idx is not None else torch.arange(len(labels), device=labels.device)

    # --- before training -------------------------------------------------------------------
    def prepare(self, ctx: MethodContext) -> bool:
        seed = ctx.config.seed
        self.gen = ctx.gen
        self.np_rng = np.random.default_rng(seed)
        fraction = holdout_fraction(self.params)
        if fraction > 0:
            kept, held = stratified_holdout(ctx.train_batches.y, fraction, seed)
            self.train_idx, self.val_idx = kept.to(ctx.device), held.to(ctx.device)
            labels = ctx.train_batches.y[self.train_idx]
            self._build(torch.bincount(labels, minlength=self.num_classes).tolist())
            self.info["holdout"] = {"fraction": fraction, "held_out": len(held)}
        before = getattr(STAGE2.get(self.choice["stage2"]).obj, "before_training", None)
        if before is not None:  # a stage that shapes the main loop's data (CReST's unlabelled pool)
            before(self, ctx, **self.slot("stage2"))
        kept = self.kept_indices(ctx.train_batches.y)
        for part in self.slot_objects():
            if callable(getattr(part, "prepare", None)):
                part.prepare(ctx, kept)
        self.stage1_config = stage1_config(ctx.config, self.params)
        if self.reuses_stage1() and self._reuse_stage1(ctx.model, ctx.checkpoint_root):
            return True
        if self.params.get("init_from"):
            self._init_from(ctx.model, self.params["init_from"])
        # after the initial weights are final: the pretext stage trains from them, and a
        # contrastive term's key encoder starts as a copy of the trained-from backbone
        if self.pretext is not None:
            self.info["ssp"] = self.pretext.run(self, ctx)
        if self.contrast is not None:
            self.contrast.attach(ctx, kept)
        return False

    def reuses_stage1(self) -> bool:
        """Whether the main loop is a plain stage 1 shared with `ce` (saved, and reused when saved):
        a second stage unless it says otherwise (CReST trains its first generation on its own split)."""
        return self.choice["stage2"] != "none" and STAGE2.get(self.choice["stage2"]).meta.get("reuse_stage1", True)

    def slot_objects(self) -> list:
        """The built slot entries; one that defines `prepare(ctx, kept)` gets the MethodContext and
        the training indices before training, one that defines `on_epoch_start(epoch)` each epoch."""
        parts = [self.sampler, self.loss, self.reweight, self.mixer, self.regularizer, self.posthoc]
        return [p for p in parts if p is not None]

    def _reuse_stage1(self, model: torch.nn.Module, root) -> bool:
        """Load the stage-1 (`ce`-equivalent) model of this data/seed when one was saved."""
        state = find_checkpoint(self.stage1_config, root)
        if state is None:
            return False
        try:
            model.load_state_dict(state)
        except RuntimeError:
            return False
        self.reused_stage1 = True
        self.stage1_meta = find_checkpoint_meta(self.stage1_config, root)
        self.info["stage1"] = {"run_id": self.stage1_config.run_id, "reused": True,
                               "epochs": self.stage1_meta.get("epochs"), "seconds": self.stage1_meta.get("seconds")}
        return True

    def reused_stage1_record(self) -> dict | None:
        return self.stage1_meta if self.reused_stage1 else None

    def _init_from(self, model: torch.nn.Module, path: str) -> None:
        """Transfer: copy every tensor whose name and shape match (a new head stays random). The
        file is root-checked and loaded as plain tensors (`load_user_weights`); a file of which no
        tensor fits this model is refused."""
        state = load_user_weights(path, "init_from")
        own = model.state_dict()
        use = {k: v for k, v in state.items()
               if k in own and isinstance(v, torch.Tensor) and own[k].shape == v.shape}
        if not use:
            raise ConfigError(f"init_from: none of the {len(state)} tensors in {path!r} fits this model "
                              f"({len(own)} tensors, e.g. {next(iter(own), '-')}); give a checkpoint "
                              "of the same model trained on data of the same shape")
        model.load_state_dict({**own, **use})
        self.info["init_from"] = {"path": str(path), "loaded": len(use), "of": len(own),
                                  "skipped": sorted(set(own) - set(use))}

    # --- training ------------------------------------------------------------------------
    def epoch_order(self, labels, epoch, gen):
        if self.train_idx is None:
            return self.sampler.order(labels, epoch, gen)
        return self.train_idx[self.sampler.order(labels[self.train_idx], epoch, gen)]

    def on_epoch_start(self, epoch: int) -> None:
        w = self.reweight.weight(epoch, self.loss.base_weight)
        self.loss.weight = None if w is None else w.to(self.device)
        for part in self.slot_objects():
            if callable(getattr(part, "on_epoch_start", None)):
                part.on_epoch_start(epoch)

    def training_loss(self, model, x, y, epoch):
        if self.contrast is not None:
            return self.contrast.training_loss(self, model, x, y)
        head = model.classifier
        mixed = self.mixer(x, y, self.gen, self.np_rng) if self.mixer is not None else None
        if mixed is not None:                           # a mixer may leave a batch as it is (None)
            x, y_a, y_b, lam = mixed
        if self.regularizer is not None or hasattr(head, "train_logits"):
            h = model.features(x)
            z = head.train_logits(h) if hasattr(head, "train_logits") else head(h)
        else:
            z = model(x)
        if hasattr(self.loss, "observe"):              # a distillation loss: its teacher scores x
            self.loss.observe(x)
        loss = self.loss.mixed(z, y_a, y_b, lam) if mixed is not None else self.loss(z, y)
        if self.regularizer is not None:
            loss = loss + self.regularizer(h, y)
        return loss

    def after_step(self) -> None:
        if self.regularizer is not None:
            self.regularizer.step()

    def logits(self, model, x):
        z = model(x)
        if LOSSES.get(self.choice["loss"]).meta.get("scales_logits"):  # s·cos as in the loss (argmax unchanged)
            z = z * self.loss.scale
        return self.posthoc(z) if self.posthoc is not None else z

    # --- after training ------------------------------------------------------------------
    def second_stage(self, ctx: MethodContext) -> None:
        is_stage1 = ctx.config.replace(**MEASUREMENT_ONLY).run_id == self.stage1_config.run_id
        wanted = ctx.save_checkpoints and (is_stage1 or self.reuses_stage1())
        if not self.reused_stage1 and wanted:
            record = ctx.stage1_record() if ctx.stage1_record else None
            save_checkpoint(self.stage1_config, ctx.model, ctx.checkpoint_root, meta=record)
            key = "stage1" if self.choice["stage2"] != "none" else "checkpoint"
            self.info[key] = {"run_id": self.stage1_config.run_id, "reused": False,
                              **({k: record[k] for k in ("epochs", "seconds")} if record else {})}
        run = STAGE2.get(self.choice["stage2"]).obj
        if run is not None:
            self.info.update(run(self, ctx, **self.slot("stage2")))

    def summary(self) -> dict:
        out = {"method_slots": dict(self.choice), **self.info}
        if self.reweight.start is not None:
            out["drw_epoch"] = self.reweight.start
        if self.regularizer is not None and self.regularizer.last:
            out["nc_reg_last"] = {k: float(v) for k, v in self.regularizer.last.items()}
        return out
