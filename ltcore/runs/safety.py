"""Guards for a shared server: user-typed paths must lie under allowed roots, and user checkpoints are
loaded as plain tensors only (`torch.load(weights_only=True)`, never arbitrary pickles).

Settings (environment): `LTLAB_SHARED=1` turns the path check on (off for a single local user);
`LTLAB_ALLOWED_ROOTS` lists the allowed folders, separated by `os.pathsep` (default: the data dir).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..data import default_data_dir
from ..errors import LTError

TRUE = ("1", "true", "yes", "on")


def shared_mode() -> bool:
    return os.environ.get("LTLAB_SHARED", "").strip().lower() in TRUE


def allowed_roots() -> list[Path]:
    """Resolved allowed roots: `$LTLAB_ALLOWED_ROOTS`, else the data directory."""
    raw = [p for p in os.environ.get("LTLAB_ALLOWED_ROOTS", "").split(os.pathsep) if p.strip()]
    return [Path(p).expanduser().resolve() for p in raw] or [default_data_dir().expanduser().resolve()]


def check_path(path: str | os.PathLike, shared: bool | None = None, roots: list[Path] | None = None) -> Path:
    """The resolved path (symlinks and `..` followed); on a shared server it must lie under an allowed root."""
    if not str(path).strip():
        raise LTError("empty path; type a folder")
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise LTError(f"cannot resolve path {str(path)!r}: {exc}") from None
    if not (shared_mode() if shared is None else shared):
        return resolved
    roots = [Path(r).resolve() for r in roots] if roots is not None else allowed_roots()
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    listed = ", ".join(str(r) for r in roots)
    raise LTError(f"path {str(path)!r} is outside the folders this shared server may read ({listed}); "
                  "put the data there or ask the administrator to add its folder to LTLAB_ALLOWED_ROOTS")


def load_user_checkpoint(path: str | os.PathLike) -> dict:
    """A user-given checkpoint as a state dict; anything but tensors and plain containers is refused."""
    import pickle

    from ..checkpoints import load_state
    checked = check_path(path)
    if not checked.is_file():
        raise LTError(f"checkpoint {str(path)!r} is not a file")
    try:
        state = load_state(checked)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LTError(f"checkpoint {checked.name} is not a plain weights file (refused: {first[:200]})") from None
    if not isinstance(state, dict):
        raise LTError(f"checkpoint {checked.name} does not hold a state dict")
    return state
