"""Model checkpoints as files named by run id; always loaded with `weights_only=True`.

`config` below is a run's Config (anything with a `run_id`): this module sits below `config` in the
import layers (methods save their stage-1 models through it), so it does not import it."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .data import default_data_dir
from .version import code_version


def checkpoint_dir(root: str | Path | None = None) -> Path:
    """`<data dir>/checkpoints` unless `root` is given."""
    return Path(root) if root else default_data_dir() / "checkpoints"


def checkpoint_path(config, root: str | Path | None = None) -> Path:
    """`<run id>-<code version>.pt`: a model saved by other code is never silently reused."""
    return checkpoint_dir(root) / f"{config.run_id}-{code_version()}.pt"


def save_checkpoint(config, model: torch.nn.Module, root: str | Path | None = None,
                    meta: dict | None = None) -> Path:
    """Write the model's state dict (CPU tensors) atomically; returns the path. `meta` (JSON-able:
    how the model was trained — epochs, seconds, history) goes beside it as `<name>.json`, so a run
    that reuses the model can report what it reused."""
    path = checkpoint_path(config, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    tmp.replace(path)
    if meta is not None:
        side = path.with_suffix(".json")
        tmp = side.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(side)
    return path


def load_state(path: str | Path) -> dict:
    """A state dict from a file, never unpickling anything but tensors and plain containers."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def find_checkpoint(config, root: str | Path | None = None) -> dict | None:
    """The saved state of `config`'s run, or None when it was never saved."""
    path = checkpoint_path(config, root)
    return load_state(path) if path.exists() else None


def find_checkpoint_meta(config, root: str | Path | None = None) -> dict:
    """What `save_checkpoint` recorded beside `config`'s model ({} when nothing was, or unreadable)."""
    side = checkpoint_path(config, root).with_suffix(".json")
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
