"""Guards for a shared server: every path a user can type must lie under the allowed roots.

`check_path` is THE one check every user path goes through. `Config.validate` (through
`methods.check_config`) runs it on a config's paths (`config_paths`: the image folder and
`init_from`), so a config is checked where it is made (CLI, dashboard, a link), when it is
submitted (`JobManager.submit`) and again in the worker (the Trainer validates its config); the
image-folder loader and `engine.checkpoints.load_user_checkpoint` check the path they open themselves,
so the Data page's preview is covered too.

Settings (environment): `LTLAB_SHARED=1` turns the path check on (off for a single local user);
`LTLAB_ALLOWED_ROOTS` lists the allowed folders, separated by `os.pathsep` (default: the data dir);
`LTLAB_MAX_EPOCHS` / `LTLAB_MAX_QUEUE` cap one run's epochs and the queue on a shared server.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import LTError
from .paths import default_data_dir

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
    except (OSError, RuntimeError, ValueError) as exc:
        raise LTError(f"cannot resolve path {str(path)!r} ({exc}); give a real folder or file, "
                      "without symbolic-link loops") from None
    if not (shared_mode() if shared is None else shared):
        return resolved
    roots = [Path(r).resolve() for r in roots] if roots is not None else allowed_roots()
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    listed = ", ".join(str(r) for r in roots)
    raise LTError(f"path {str(path)!r} is outside the folders this shared server may read ({listed}); "
                  "put the data there or ask the administrator to add its folder to LTLAB_ALLOWED_ROOTS")


PATH_PARAMS = ("init_from", "kd_teacher")
"""Method parameters that may name a file (`kd_teacher` also takes a stored run id)."""


def looks_like_path(text: str) -> bool:
    """A reference that names a file rather than a stored run id."""
    return text.endswith(".pt") or "/" in text or "\\" in text or text.startswith("~")


def config_paths(config) -> dict[str, str]:
    """The paths a user typed into a config, by the name a message should use."""
    paths = {"data_path": config.data_path} if config.data_path else {}
    for name in PATH_PARAMS:
        value = config.params.get(name)
        if isinstance(value, str) and value.strip() and (name == "init_from" or looks_like_path(value)):
            paths[name] = value
    return paths


def check_config_paths(config) -> None:
    """`check_path` on every user path of a config (raises LTError naming the field)."""
    for name, path in config_paths(config).items():
        try:
            check_path(path)
        except LTError as exc:
            raise LTError(f"{name}: {exc}") from None


def shared_limits() -> tuple[int, int]:
    """(largest epochs of one run, longest queue) a shared server accepts."""
    def number(key: str, default: int) -> int:
        try:
            return max(int(os.environ.get(key, default)), 1)
        except ValueError:
            return default
    return number("LTLAB_MAX_EPOCHS", 1000), number("LTLAB_MAX_QUEUE", 200)
