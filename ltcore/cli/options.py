"""The options of one training configuration (shared by `train` and `sweep`) and the validated
Config they make: recipe values, then explicit flags, then method hyper-parameters."""
from __future__ import annotations

from ..config import SCHEDULES, Config
from ..errors import LTError
from ..methods import PARAMS
from ..recipes import RECIPES


def _parse_value(text: str, kind: str = ""):
    """A CLI string as the parameter's kind (int/float/str; "none" → None), guessed when unknown."""
    if text.lower() == "none":
        return None
    casts = {"int": (int,), "float": (float,), "str": ()}.get(kind, (int, float))
    for cast in casts:
        try:
            return cast(text)
        except ValueError:
            pass
    if kind in ("int", "float"):
        raise LTError(f"expected {'an integer' if kind == 'int' else 'a number'}, got {text!r}")
    return text


def method_params_table() -> dict:
    """Every method hyper-parameter and slot (ltcore.methods.PARAMS): name → spec with kind and help."""
    return PARAMS

def add_train_parser_options(p) -> None:
    """The options of one training configuration (shared by `train` and `sweep`)."""
    d = Config()
    p.add_argument("--dataset", default=d.dataset, help="data set name (see `datasets`)")
    p.add_argument("--data-path", default="", help="folder of class sub-folders for --dataset imagefolder")
    p.add_argument("--data-dir", default=None, help="where data sets live/download (env LTLAB_DATA)")
    p.add_argument("--profile", default=d.profile, help="imbalance profile: exp, step or none")
    p.add_argument("--ratio", type=float, default=d.ratio, help="imbalance ratio ρ = n_max/n_min (≥ 1)")
    p.add_argument("--minority-fraction", type=float, default=d.minority_fraction, help="μ of the step profile")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--recipe", default="quick", help=f"training recipe: {', '.join(RECIPES.names())}")
    p.add_argument("--method", default=d.method, help="method preset (see `methods`)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="method hyper-parameter override (repeatable)")
    p.add_argument("--model", default=None, help="model (see `models`); default: the data set's")
    for name, typ in (("epochs", int), ("batch-size", int), ("lr", float), ("momentum", float),
                      ("weight-decay", float), ("warmup-epochs", int), ("lr-gamma", float)):
        p.add_argument(f"--{name}", type=typ, default=None)
    p.add_argument("--schedule", default=None, help=f"lr schedule: {', '.join(SCHEDULES)}")
    p.add_argument("--milestones", default=None, help="comma-separated epochs for multistep, e.g. 160,180")
    p.add_argument("--augment", default=None, help="auto, none, crop or crop_flip")
    p.add_argument("--device", default=d.device, help="auto (cuda → mps → cpu), cpu, cuda or mps")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--pretrained", action="store_true", help="resnet18: start from torchvision's ImageNet "
                   "weights, read offline from the torch hub cache ($TORCH_HOME/hub/checkpoints)")
    p.add_argument("--nc-every", type=int, default=None, help="neural-collapse metrics every N epochs")
    p.add_argument("--json", default=None, metavar="FILE", help="write the full result as JSON")
    p.add_argument("--no-store", action="store_true", help="do not record the run in the run store")
    p.add_argument("--tensorboard", default=None, metavar="DIR", help="also write TensorBoard event files")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    p.add_argument("--relative", action="store_true", help="also train (or reuse from the store) the "
                   "balanced references and report relative accuracy (Zhang et al. survey §4.1)")
    p.add_argument("--yes", action="store_true", help="start very large work (more than "
                   "the limits of `ltcore.sweep.check_size`) without asking")
    taken = {a.dest for a in p._actions}
    for name, spec in sorted(method_params_table().items()):
        if name not in taken:
            p.add_argument(f"--{name.replace('_', '-')}", dest=f"mp_{name}", default=None, metavar=spec.kind.upper(),
                           help="method: " + spec.help.replace("%", "%%"))  # argparse formats help with %


def config_from_args(args) -> Config:
    """Recipe values, then explicit flags, then method params → a validated Config."""
    values = dict(RECIPES.get(args.recipe).obj)
    flat = {"dataset": args.dataset, "data_path": args.data_path, "profile": args.profile,
            "ratio": args.ratio, "minority_fraction": args.minority_fraction, "seed": args.seed,
            "method": args.method, "device": args.device, "compile": args.compile,
            "pretrained": getattr(args, "pretrained", False)}
    values.update(flat)
    for key in ("model", "epochs", "batch_size", "lr", "momentum", "weight_decay", "warmup_epochs",
                "lr_gamma", "schedule", "augment", "nc_every"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.milestones is not None:
        try:
            values["milestones"] = tuple(int(m) for m in args.milestones.split(",") if m.strip())
        except ValueError:
            raise LTError(f"--milestones takes comma-separated epochs, got {args.milestones!r}") from None
    table = method_params_table()
    params = {}
    for item in args.param:
        if "=" not in item:
            raise LTError(f"--param takes NAME=VALUE, got {item!r}")
        name, text = (part.strip() for part in item.split("=", 1))
        params[name] = _parse_value(text, table[name].kind if name in table else "")
    for name, spec in table.items():
        text = getattr(args, f"mp_{name}", None)
        if text is not None:
            params[name] = _parse_value(text, spec.kind)
    values["method_params"] = params
    return Config.from_dict(values).validate()
