"""The training loop: one Trainer owns data, model, optimiser, schedule, evaluation and events.

Data stays on the device (see data/device_loader.py); each epoch's order comes from the method's
sampler as an index tensor; on CUDA the step runs under bf16 autocast with channels_last. The
pieces of the loop (schedule, batches, steps with Stop, divergence check) are loop.py's, shared with
the methods' own training stages.
"""
from __future__ import annotations

import random
import time
from typing import Callable

import numpy as np
import torch

from .compiling import OWN_CUDA_GRAPHS, CompiledFeatures, compile_mode
from ..config import Config
from ..data import DATASETS, DeviceBatches, LongTailData, balanced_like, load_split, make_longtail
from ..errors import LTError
from .loop import TrainingDiverged, epoch_batches, lr_at, mean_loss, optimizer_step, run_steps, set_lr
from ..methods import STAGE2, MethodContext, method_for_model
from ..metrics import evaluate_logits, per_class_accuracy, tracking
from ..models import build_model
from ..result import RunResult

EventFn = Callable[[dict], None]
StopFn = Callable[[], bool]


def resolve_device(name: str = "auto") -> torch.device:
    """auto → cuda, then mps, then cpu; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LTError("device 'cuda' was asked for but no CUDA GPU is available; use --device auto or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise LTError("device 'mps' was asked for but Apple MPS is not available; use --device auto or cpu")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """Readable device name for the UI/CLI (GPU model or 'CPU')."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 matrix work is native here: CUDA with bf16 support, or a CPU with AVX512-BF16/AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            flags = open("/proc/cpuinfo").read()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False


def use_bf16(config: Config, device: torch.device) -> bool:
    """bf16 autocast: always when asked; with `auto`, where bf16 is native (CUDA sm80+, AVX512-BF16 CPUs)."""
    if config.precision != "auto":
        return config.precision == "bf16"
    return native_bf16(device)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_data(config: Config, data_dir=None) -> LongTailData:
    """Load the configured data set and draw its long-tailed training subset."""
    needs_path = DATASETS.get(config.dataset).meta.get("needs_path", False)
    options = {"path": config.data_path} if needs_path else {}
    split = load_split(config.dataset, data_dir, config.seed, **options)
    data = make_longtail(split, config.profile, config.ratio, config.seed, config.minority_fraction)
    return balanced_like(data, config.seed) if config.balanced_total else data


class _FeaturesOnce:
    """The model, except that calling it on this batch reuses the backbone features already
    computed (`classifier(h)`, what `LTModel.forward` computes), so logits and features together
    cost one backbone pass instead of two. Everything else is the model's own."""

    def __init__(self, model, h: torch.Tensor):
        self._model, self._h = model, h

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._model.classifier(self._h)

    def __getattr__(self, name):
        return getattr(self._model, name)


class Trainer:
    """Owns one run. `fit()` returns a RunResult; `should_stop` ends it after the current step."""

    def __init__(self, config: Config, data: LongTailData | None = None, data_dir=None,
                 on_event: EventFn | None = None, should_stop: StopFn | None = None,
                 checkpoint_root=None, save_checkpoints: bool = True, find_run=None):
        """`checkpoint_root`: folder where two-stage methods find/save stage-1 models (None =
        `<data dir>/checkpoints`); `save_checkpoints=False` never writes one. `find_run`: stored
        run id → (Config, state dict), for methods that use another run (a distillation teacher)."""
        self.config = config.validate()
        self.device = resolve_device(config.device)
        self.on_event = on_event or (lambda e: None)
        self.should_stop = should_stop or (lambda: False)
        seed_everything(config.seed)
        self.data = data if data is not None else prepare_data(config, data_dir)
        split = self.data.split
        meta = DATASETS.get(config.dataset).meta
        self.num_classes = split.num_classes
        self.cuda = self.device.type == "cuda"
        augment = meta.get("augment", "none") if config.augment == "auto" else config.augment
        image = split.x_train.dim() == 4
        channels_last = image and self.device.type in ("cuda", "cpu")
        self.bf16 = use_bf16(config, self.device) and (image or self.cuda)
        self.train_batches = DeviceBatches(self.data.x_train, self.data.y_train, self.device, split.mean,
                                           split.std, augment, channels_last=channels_last, seed=config.seed)
        self.test_batches = DeviceBatches(split.x_test, split.y_test, self.device, split.mean, split.std,
                                          "none", channels_last=channels_last)
        # the balanced validation split (never training data): hyper-parameters are chosen here
        self.val_batches = DeviceBatches(split.x_val, split.y_val, self.device, split.mean, split.std,
                                         "none", channels_last=channels_last)
        model_name = meta.get("model", "mlp") if config.model == "auto" else config.model
        in_shape = tuple(split.x_train.shape[1:])
        self.method, backbone_model = method_for_model(
            config, self.data.counts, self.device,
            lambda: build_model(model_name, in_shape, self.num_classes, pretrained=config.pretrained))
        self.model = backbone_model.to(self.device)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.compile_mode = compile_mode(config.compile)
        self.fast_features = (CompiledFeatures(self.model.backbone, config.batch_size, self.compile_mode)
                              if self.compile_mode else None)
        self.optimizer = torch.optim.SGD(self.method.param_groups(self.model), lr=config.lr,
                                         momentum=config.momentum, weight_decay=config.weight_decay)
        self.gen = torch.Generator(device=self.device).manual_seed(config.seed)
        self.history: list[dict] = []
        self.extras: dict = {}
        if config.pretrained:
            self.extras["pretrained"] = getattr(backbone_model.backbone, "pretrained", None)
        self.stopped = False
        self.epoch = 0
        self.method_context = MethodContext(
            config=self.config, model=self.model, train_batches=self.train_batches, device=self.device,
            gen=self.gen, autocast=self.autocast, emit=self._emit, should_stop=self.stop_requested,
            checkpoint_root=checkpoint_root, save_checkpoints=save_checkpoints,
            val_batches=self.val_batches, find_run=find_run, stage1_record=self._stage1_record,
            test_inputs=self.test_batches, build_method=method_for_model)
        self._stage1_seconds = self._stage2_seconds = 0.0
        self._sums = torch.zeros(3, device=self.device)  # loss sum, correct, counted (this epoch)
        self._captured: dict = {}
        self.skip_main_loop = bool(self.method.prepare(self.method_context))
        self.graph_step = self._make_graph_step()

    def _emit(self, event: dict) -> None:
        self.on_event(event)

    def stop_requested(self) -> bool:
        """`should_stop()`, remembering a Stop in `self.stopped` (methods' loops call this too)."""
        stop = bool(self.should_stop())
        if stop:
            self.stopped = True
        return stop

    def autocast(self):
        """bf16 autocast on CUDA (and bf16-native CPUs, see use_bf16); a no-op otherwise."""
        # no weight-cast cache: each weight is used once per forward, and a CUDA graph needs it off
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False)

    def set_lr(self, lr: float) -> None:
        set_lr(self.optimizer, lr)

    def train_epoch(self, epoch: int) -> dict:
        """One pass over this epoch's sampler order; returns mean loss and running train accuracy.

        Train accuracy is read from the classifier outputs of the training steps themselves (a
        forward hook), as most trainers report it, instead of a second pass over the data. The
        step loop never waits for the device: loss and accuracy are summed in device tensors and
        read once at the end of the epoch; full batches replay a CUDA graph on CUDA (cuda_graph.py).
        """
        self.model.train()
        self.method.on_epoch_start(epoch)
        lr = lr_at(self.config, epoch)
        self.set_lr(lr)
        order = self.method.epoch_order(self.train_batches.y, epoch, self.gen)
        self._sums.zero_()
        if self.graph_step is not None:
            self.graph_step.set_lr()
            self._stable_loss_weight()
        hook = self.model.classifier.register_forward_hook(lambda m, i, out: self._captured.__setitem__("z", out))
        if self.fast_features is not None:
            self.model.fast_features = self.fast_features  # full batches of this loop only (compiling.py)
        try:
            steps, _ = run_steps(epoch_batches(self.train_batches, order, self.config.batch_size),
                                 self._train_step, self.stop_requested)
        finally:
            hook.remove()
            self.model.__dict__.pop("fast_features", None)
        loss_sum, correct, counted = self._sums.tolist()
        return {"loss": mean_loss(loss_sum, steps, f"epoch {epoch + 1}"), "lr": lr, "steps": steps,
                "train_acc": correct / counted if counted else None}

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """One optimiser step: a CUDA-graph replay for a full batch where one is captured, else eager."""
        if self.graph_step is not None and len(yb) == self.config.batch_size:
            self.graph_step(xb, yb)
        else:
            optimizer_step(self.optimizer, lambda: self._step_body(xb, yb))
        self.method.after_step()

    def _step_body(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Forward and loss of one batch; adds (loss, correct, counted) to the device sums, no sync."""
        with self.autocast():
            loss = self.method.training_loss(self.model, xb, yb, self.epoch)
        z = self._captured.pop("z", None)
        with torch.no_grad():
            self._sums[0] += loss.detach().float()
            if isinstance(z, torch.Tensor) and z.dim() == 2 and z.shape[0] == yb.shape[0]:
                self._sums[1] += (z.detach().argmax(1) == yb).sum()
                self._sums[2] += yb.shape[0]
        return loss

    def _stable_loss_weight(self) -> None:
        """Keep the loss's class weights in one device tensor across epochs (values copied in), so
        the captured graph stays valid; only a switch between no weights and weights recaptures."""
        loss = getattr(self.method, "loss", None)
        w = getattr(loss, "weight", None)
        if w is None:
            return
        held = getattr(self, "_held_weight", None)
        if held is None or held.shape != w.shape or held.dtype != w.dtype:
            self._held_weight = held = w.detach().clone()
        elif w is not held:
            held.copy_(w)
        loss.weight = held

    def _make_graph_step(self):
        """The CUDA-graph step for this run, or None (not CUDA, switched off, or the method needs
        per-step host work); the reason is kept in extras."""
        from .cuda_graph import GraphedStep, graphs_wanted, ineligible_reason

        if not graphs_wanted(self.device):
            return None
        if self.compile_mode in OWN_CUDA_GRAPHS:
            self.extras["cuda_graph"] = {"used": False, "reason": f"torch.compile mode {self.compile_mode} "
                                         "makes its own CUDA graphs"}
            return None
        reason = ineligible_reason(self.method, self.optimizer)
        if reason:
            self.extras["cuda_graph"] = {"used": False, "reason": reason}
            return None
        loss = getattr(self.method, "loss", None)
        return GraphedStep(self.optimizer, self._step_body, lambda: (getattr(loss, "weight", None),), self.device)

    @torch.no_grad()
    def predict(self, batches: DeviceBatches, with_features: bool = False):
        """Logits (and penultimate features) for every sample of `batches`, in storage order.

        Evaluation runs in fp32: bf16 logits (steps of ~0.004 for cosines) would create argmax ties.
        """
        self.model.eval()
        logits, feats = [], []
        for xb, _ in batches.eval_batches():
            with torch.autocast(self.device.type, enabled=False):
                model = self.model
                if with_features:
                    h = self.model.features(xb)
                    feats.append(h.float())
                    model = _FeaturesOnce(self.model, h)
                logits.append(self.method.logits(model, xb).float())
        out = torch.cat(logits) if logits else torch.zeros(0, self.num_classes)
        return (out, torch.cat(feats)) if with_features else out

    def evaluate(self) -> dict:
        """Metrics on the balanced test set."""
        return evaluate_logits(self.predict(self.test_batches), self.test_batches.y, self.data.counts)

    def _epoch_metrics(self, epoch: int) -> dict:
        """Test metrics after `epoch` when it is an evaluation epoch (every `eval_every`, and the
        last); else the same keys with None (the history stays one row per epoch)."""
        if epoch % self.config.eval_every and epoch < self.config.epochs and not self.stopped:
            return {"test_acc": None, "balanced_acc": None, "val_balanced_acc": None,
                    **{f"{g}_acc": None for g in ("many", "medium", "few")}, "per_class_acc": None}
        metrics = self.evaluate()
        return {"test_acc": metrics["overall_acc"], "balanced_acc": metrics["balanced_acc"],
                "val_balanced_acc": self.validation_accuracy()["val_balanced_acc"],
                **{f"{g}_acc": v for g, v in metrics["shot_acc"].items()},
                "per_class_acc": metrics["per_class_acc"]}

    @property
    def has_validation(self) -> bool:
        return len(self.val_batches) > 0

    def predict_validation(self, with_features: bool = False):
        """Logits (and features) on the balanced validation split, in storage order; its labels
        are `self.val_batches.y`. Choose hyper-parameters here, never on the test set."""
        return self.predict(self.val_batches, with_features)

    def validation_accuracy(self, logits: torch.Tensor | None = None) -> dict:
        """{"val_balanced_acc", "val_acc"} of the current model (or of `logits` given for the
        validation split, e.g. after a post-hoc adjustment); None when the split is empty."""
        if not self.has_validation:
            return {"val_balanced_acc": None, "val_acc": None}
        logits = self.predict_validation() if logits is None else logits
        labels = self.val_batches.y.cpu()
        preds = logits.argmax(1).cpu()
        recall = per_class_accuracy(preds, labels, self.num_classes)
        defined = recall[~recall.isnan()]
        return {"val_balanced_acc": float(defined.mean()) if len(defined) else None,
                "val_acc": float((preds == labels).float().mean())}

    def fit(self) -> RunResult:
        start = time.perf_counter()
        status, error = "done", ""
        self.on_event({"type": "start", "run_id": self.config.run_id, "epochs": self.config.epochs,
                       "device": device_label(self.device), "class_counts": self.data.counts})
        try:
            for epoch in range(0 if self.skip_main_loop else self.config.epochs):
                if self.should_stop():
                    self.stopped = True
                    break
                t0 = time.perf_counter()
                stats = self.train_epoch(epoch)
                self.epoch = epoch + 1
                row = {"epoch": epoch + 1, **stats, **self._epoch_metrics(epoch + 1),
                       "seconds": time.perf_counter() - t0}
                self.history.append(row)
                tracking.on_epoch(self, epoch + 1)
                self.on_event({"type": "epoch", "epochs": self.config.epochs, **row})
                if self.stopped:
                    break
            self._stage1_seconds = time.perf_counter() - start
            if self.skip_main_loop:
                self._replay_reused_stage1()
            if not self.stopped:
                stage2_start = time.perf_counter()
                self.method.second_stage(self.method_context)
                self._stage2_seconds = time.perf_counter() - stage2_start
        except TrainingDiverged as exc:
            status, error = "failed", str(exc)
        if self.stopped:
            status = "stopped"
        metrics = {**self.evaluate(), **self.validation_accuracy()}
        tracking.on_end(self)
        self.extras.update(self.method.summary())
        stages = self._stages()
        if stages:
            self.extras["stages"] = stages
        if self.graph_step is not None:
            self.extras["cuda_graph"] = {"used": True, **self.graph_step.summary()}
        if self.fast_features is not None:
            self.extras["compiled"] = self.fast_features.summary()
        result = RunResult(self.config, status, device_label(self.device), list(self.data.split.classes),
                           list(self.data.counts), metrics, self.history, time.perf_counter() - start,
                           self.epoch, self.extras, error, model=self.model)
        self.on_event({"type": "end", "status": status, "run_id": self.config.run_id, "error": error})
        return result

    def _stage1_record(self) -> dict:
        """Stage 1 as it stands (MethodContext.stage1_record): saved beside the stage-1 model."""
        return {"epochs": self.epoch, "seconds": round(self._stage1_seconds, 3), "history": self.history,
                "nc_history": self.extras.get("nc_history") or [], "snapshots": self.extras.get("snapshots") or []}

    def _replay_reused_stage1(self) -> None:
        """A reused stage-1 model is this run's stage 1: its epochs, history (rows marked `reused`,
        sent as epoch events so the store and live views see them) and its neural-collapse
        measurements become this run's, instead of "0 epochs"."""
        record = self.method.reused_stage1_record() or {}
        for row in record.get("history") or []:
            row = {**row, "reused": True}
            self.history.append(row)
            self.on_event({"type": "epoch", "epochs": self.config.epochs, **row})
        self.epoch = int(record.get("epochs") or len(self.history))
        for key in ("nc_history", "snapshots"):
            if record.get(key):
                self.extras[key] = [dict(entry) for entry in record[key]]

    def _stages(self) -> list[dict]:
        """[stage 1, stage 2] of a two-stage method: what each did (epochs, seconds, reused or trained)."""
        slots = self.extras.get("method_slots") or {}
        second = slots.get("stage2")
        if not second or second == "none":
            return []
        first = self.extras.get("stage1") or {}
        reused = bool(first.get("reused"))
        what = STAGE2.get(second).meta.get("stage1", "representation learning (plain sampling)")
        stage1 = {"stage": 1, "what": what, "reused": reused,
                  "epochs": self.epoch, "from_run": first.get("run_id"),
                  "seconds": first.get("seconds") if reused else round(self._stage1_seconds, 3)}
        stage2 = {"stage": 2, "what": second, "epochs": len(self.extras.get("stage2_loss") or []),
                  "seconds": round(self._stage2_seconds, 3)}
        return [stage1, stage2]


def train(config: Config, on_event: EventFn | None = None, should_stop: StopFn | None = None,
          data: LongTailData | None = None, data_dir=None, checkpoint_root=None,
          save_checkpoints: bool = True, find_run=None) -> RunResult:
    """Train one configuration and return its result (see Trainer)."""
    return Trainer(config, data, data_dir, on_event, should_stop, checkpoint_root, save_checkpoints,
                   find_run).fit()
