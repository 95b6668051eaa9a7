"""The paper tables: what each one trains (data set, ratios, presets, recipe), the published
values it is compared with (`ltcore/published.csv`), and every (ratio, method, seed) run of a table
as a validated Config."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import LTError
from ..recipes import RECIPES

PUBLISHED_FILE = Path(__file__).resolve().parent.parent / "published.csv"

CIFAR_METHODS = ("ce", "ros", "cbs", "progressive", "cb_ce", "focal", "cb_focal", "ldam", "ldam_drw",
                 "ce_drw", "la_posthoc", "la_loss", "balanced_softmax", "mixup", "remix", "remix_drw",
                 "crt", "tau_norm", "lws", "ncm")
"""The 20 presets of a CIFAR-LT table: the baseline, re-sampling, cost-sensitive, logit adjustment,
mixing and decoupling families (every preset with a published CIFAR-LT number, and their kin)."""


TEACHER_PARAM = "kd_teacher"
TEACHER_METHOD = "ce"
"""A preset that requires `kd_teacher` distils from the table's own `ce` run of its ratio and seed."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    dataset: str
    ratios: tuple
    methods: tuple | None          # None: every preset a table can train (`trainable_presets`)
    recipe: str
    overrides: tuple = ()          # ((field, value), ...) on top of the recipe
    eval_every: int = 10
    description: str = ""
    reference: str | None = None   # a published table shown beside ours for the ordering (no Δ)
    method_params: tuple = ()      # ((preset, ((param, value), ...)), ...): a table's scale for a preset
    classes: tuple = ()            # the data set's class names: an image folder of them gets the published column


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


TABLES = {
    "cifar10-lt": TableSpec("cifar10-lt", "cifar10", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                            description="CIFAR-10-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs",
                            classes=CIFAR10_CLASSES),
    "cifar100-lt": TableSpec("cifar100-lt", "cifar100", (100.0, 50.0, 10.0), CIFAR_METHODS, "ldam",
                             description="CIFAR-100-LT (exp. profile), ResNet-32, LDAM-DRW recipe, 200 epochs"),
    "mnist1d-lt": TableSpec("mnist1d-lt", "mnist1d_noisy", (100.0, 50.0, 10.0), None,
                            "resnet1d_ldam", eval_every=5, reference="cifar10-lt",
                            # KCL's queue of 65,536 keys is the authors' ImageNet-LT size (~0.57 of an
                            # epoch there); on 2,478 signals the initial fill (one pass) leaves ~96% of
                            # it random keys for 26 epochs, at ~36 s an epoch on a CPU. 1,024 keys (~0.4
                            # of an epoch, PaCo's CIFAR queue) keep the authors' proportion.
                            method_params=(("kcl", (("kcl_queue", 1024),)),),
                            description="MNIST-1D-LT (exp. profile, the noisier generator), every preset "
                                        "(kd/bkd taught by the table's ce run), the benchmark regime "
                                        "(benchmarks/mnist1d_regime.py): 1-D ResNet-14 with BatchNorm, the "
                                        "LDAM-DRW schedule over 60 epochs, random shift; balanced and "
                                        "many/medium/few beside the published CIFAR-10-LT ordering"),
}

REFERENCE_LABEL = {"cifar10-lt": "CIFAR-10-LT", "cifar100-lt": "CIFAR-100-LT"}


def trainable_presets() -> tuple:
    """Every registered preset, in registry order, that a table can train by itself: all but those
    that require a user's file (`transfer`: init_from); `kd_teacher` the table provides."""
    from ..methods import PRESETS

    return tuple(name for name in PRESETS.names()
                 if not set(PRESETS.get(name).meta.get("requires", ())) - {TEACHER_PARAM})


def table_methods(spec: TableSpec) -> tuple:
    return tuple(spec.methods) if spec.methods is not None else trainable_presets()


def needs_teacher(method: str) -> bool:
    from ..methods import PRESETS

    return TEACHER_PARAM in PRESETS.get(method).meta.get("requires", ())


@dataclass(frozen=True)
class Published:
    top1: float
    source: str
    checked: str


def load_published(path: Path = PUBLISHED_FILE) -> dict[tuple[str, float, str], Published]:
    """(table, ratio, method) → published top-1 % with its source, from the one data file."""
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["table"], float(row["ratio"]), row["method"])
            if key in out:
                raise LTError(f"{path.name}: two published values for {key}")
            out[key] = Published(float(row["top1"]), row["source"], row["checked"])
    return out


def table_configs(spec: TableSpec, seeds, dataset: str | None = None, epochs: int | None = None,
                  methods=None, ratios=None, eval_every: int | None = None, device: str = "auto",
                  data_path: str = "") -> list[Config]:
    """Every (ratio, method, seed) run of a table as validated Configs (ratio-major order).

    Without `methods`, the table's presets that apply to the data set (see `inapplicable`). A preset
    that needs a teacher (`kd`, `bkd`) gets `kd_teacher` = the store id of the table's `ce` run of
    the same ratio and seed; `ce` joins the table (first) when it was not asked for."""
    from ..version import store_run_id

    unknown = sorted(set(methods or ()) - set(_preset_names()))
    if unknown:
        raise LTError(f"unknown method(s) {', '.join(unknown)}; see `python -m ltcore methods`")
    base = _base(spec, dataset, epochs, eval_every, device, data_path)
    if methods:
        methods = list(methods)
    else:
        skip = inapplicable(spec, dataset, device, data_path)
        methods = [m for m in table_methods(spec) if m not in skip]
    needs_file = sorted(m for m in methods if set(_requires(m)) - {TEACHER_PARAM})
    if needs_file:
        raise LTError(f"{', '.join(needs_file)} need(s) a file of yours ({', '.join(_requires(needs_file[0]))}); "
                      "a table cannot train it: leave it out of --methods")
    if any(needs_teacher(m) for m in methods) and TEACHER_METHOD not in methods:
        methods.insert(0, TEACHER_METHOD)
    configs = []
    for r in ratios or spec.ratios:
        teacher = {s: Config.from_dict({**base, "ratio": r, "method": TEACHER_METHOD, "seed": s}) for s in seeds}
        for m in methods:
            for s in seeds:
                params = dict(dict(spec.method_params).get(m, ()))
                if needs_teacher(m):
                    params[TEACHER_PARAM] = store_run_id(teacher[s])
                configs.append(Config.from_dict({**base, "ratio": r, "method": m, "seed": s,
                                                 "method_params": params}).validate())
    return configs


def _base(spec: TableSpec, dataset: str | None, epochs: int | None, eval_every: int | None, device: str,
          data_path: str = "") -> dict:
    """The table's recipe as Config fields (epochs shortened with the milestones scaled along);
    `data_path` for an image folder (`imagefolder`)."""
    base = dict(RECIPES.get(spec.recipe).obj)
    base.update(dict(spec.overrides))
    base.update(dataset=dataset or spec.dataset, profile="exp", device=device,
                eval_every=eval_every or spec.eval_every)
    if data_path:
        base["data_path"] = str(data_path)
    if epochs is not None:
        base["epochs"] = epochs
        base["warmup_epochs"] = min(base.get("warmup_epochs", 0), max(epochs - 1, 0))
        if base.get("milestones"):  # the recipe's milestones at the same fractions of the run
            full = dict(RECIPES.get(spec.recipe).obj).get("epochs", epochs)
            base["milestones"] = tuple(max(1, round(m * epochs / full)) for m in base["milestones"])
    base["eval_every"] = min(base["eval_every"], base.get("epochs", Config().epochs))
    return _fit_model(base)


def _fit_model(base: dict) -> dict:
    """A table trained on another data set (`--dataset`) than its recipe's model takes (a 1-D
    signal model on images or plain vectors) uses that data set's own model and augmentation."""
    from ..data import DATASETS
    from ..models import MODELS

    model = base.get("model", "auto")
    if model != "auto" and MODELS.get(model).meta.get("inputs") == "signal" and \
            not DATASETS.get(base["dataset"]).meta.get("signal"):
        return {**base, "model": "auto", "augment": "auto"}
    return base


def inapplicable(spec: TableSpec, dataset: str | None = None, device: str = "auto", data_path: str = "") -> dict:
    """The table's default presets that cannot train on the data set → the one-line reason (e.g.
    `cmo` pastes image patches: MNIST-1D has 1-D signals)."""
    from ..errors import ConfigError

    base = _base(spec, dataset, None, None, device, data_path)
    out = {}
    for m in table_methods(spec):
        params = {TEACHER_PARAM: "teacher"} if needs_teacher(m) else {}
        try:
            Config.from_dict({**base, "ratio": spec.ratios[0], "method": m, "seed": 0,
                              "method_params": params}).validate()
        except ConfigError as exc:
            out[m] = str(exc)
    return out


def _preset_names():
    from ..methods import PRESETS
    return PRESETS.names()


def _requires(method: str) -> tuple:
    from ..methods import PRESETS
    return tuple(PRESETS.get(method).meta.get("requires", ()))
