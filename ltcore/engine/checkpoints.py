"""Model checkpoints as files named by run id; always loaded with `weights_only=True`.

`config` below is a run's Config (anything with a `run_id`): this module sits below `config` in the
import layers (methods save their stage-1 models through it), so it does not import it.

Each file has a `<name>.sha256` beside it, written after the file: a stage-1 checkpoint that is
truncated, corrupt or planted (no matching checksum) is not used, its run trains stage 1 again.
A checkpoint a user names (`init_from`) goes through `load_user_checkpoint`: the shared server's
path check, then plain tensors only.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Callable

import torch

from ..data import default_data_dir
from ..errors import LTError
from ..safety import check_path
from ..version import code_version


def checkpoint_dir(root: str | Path | None = None) -> Path:
    """`<data dir>/checkpoints` unless `root` is given."""
    return Path(root) if root else default_data_dir() / "checkpoints"


def checkpoint_path(config, root: str | Path | None = None) -> Path:
    """`<run id>-<code version>.pt`: a model saved by other code is never silently reused."""
    return checkpoint_dir(root) / f"{config.run_id}-{code_version()}.pt"


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def save_checkpoint(config, model: torch.nn.Module, root: str | Path | None = None,
                    meta: dict | None = None) -> Path:
    """Write the model's state dict (CPU tensors) and its checksum atomically; returns the path.
    `meta` (JSON-able: how the model was trained — epochs, seconds, history) goes beside it as
    `<name>.json`, so a run that reuses the model can report what it reused. A failed write (disk
    full) leaves no temporary file behind and raises LTError."""
    path = checkpoint_path(config, root)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    checksum_path(path).unlink(missing_ok=True)
    atomic_write(path, lambda f: torch.save(state, f))
    digest = file_sha256(path)
    atomic_write(checksum_path(path), lambda f: f.write(digest.encode()))
    if meta is not None:
        text = json.dumps(meta)
        atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def load_state(path: str | Path) -> dict:
    """A state dict from a file, never unpickling anything but tensors and plain containers."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def find_checkpoint(config, root: str | Path | None = None) -> dict | None:
    """The saved state of `config`'s run, or None when it was never saved or is unusable (no or a
    wrong checksum, unreadable): the caller then trains it again and overwrites the file."""
    path = checkpoint_path(config, root)
    try:
        expected = checksum_path(path).read_text().strip()
        if not path.is_file() or file_sha256(path) != expected:
            return None
        state = load_state(path)
    except Exception:  # noqa: BLE001 - missing, truncated, corrupt or planted: train it again
        return None
    return state if isinstance(state, dict) else None


def load_user_checkpoint(path: str | os.PathLike) -> dict:
    """A user-given checkpoint as a state dict: the path must pass `check_path` (allowed roots on
    a shared server); anything but tensors and plain containers is refused."""
    checked = check_path(path)
    if not checked.is_file():
        what = f"{str(path)!r} is not a file" if checked.exists() else f"no checkpoint file at {str(path)!r}"
        raise LTError(f"{what}; give the path of a .pt state-dict file")
    try:
        state = load_state(checked)
    except OSError as exc:
        raise LTError(f"checkpoint {checked.name} cannot be read ({exc.strerror or exc})") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, ImportError,
            IndexError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LTError(f"checkpoint {checked.name} is not a plain weights file (refused: {first[:200]})") from None
    if not isinstance(state, dict):
        raise LTError(f"checkpoint {checked.name} does not hold a state dict")
    return state


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write(path: Path, write: Callable) -> None:
    """`write(file)` into `<path>.tmp`, then rename it to `path`. On any failure (disk full, a
    read-only folder) the temporary file is removed and an LTError says what to do."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            write(f)
        tmp.replace(path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, (OSError, RuntimeError)):  # RuntimeError: torch.save's failed write
            reason = getattr(exc, "strerror", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise LTError(f"cannot write {path} ({reason[:200]}); free disk space or make the folder "
                          "writable, then run it again") from None
        raise


def find_checkpoint_meta(config, root: str | Path | None = None) -> dict:
    """What `save_checkpoint` recorded beside `config`'s model ({} when nothing was, or unreadable)."""
    side = checkpoint_path(config, root).with_suffix(".json")
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
