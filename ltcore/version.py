"""Code version that, with the config hash, names a run in the store: same code + same config → same run."""
from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

from .errors import ConfigError

PACKAGE = Path(__file__).resolve().parent
# Parts of ltcore that cannot change a run's numbers: the store/jobs package, the sweep drivers
# (local job queue, Ray Tune), the listings, the command line and the paper-table package (its
# configs are hashed into the run ids themselves). A path ending in "/" covers a whole package.
IGNORED = ("runs/", "sweep/", "cli/", "__main__.py", "reproduce/")


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """8 hex digits of SHA-256 over ltcore's result-affecting sources (path + bytes, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(IGNORED) or "__pycache__" in rel:
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:8]


def code_version() -> str:
    """`$LTLAB_CODE_VERSION` if set (pin it to keep a store valid across edits), else the source hash."""
    pinned = os.environ.get("LTLAB_CODE_VERSION", "")
    if pinned and not re.fullmatch(r"[A-Za-z0-9._]{1,32}", pinned):
        raise ConfigError(f"LTLAB_CODE_VERSION={pinned!r} must be 1-32 letters, digits, dots or underscores")
    return pinned or source_hash()


def store_run_id(config) -> str:
    """The store's run id: `<config.run_id>-<code version>`, e.g. `4d17676926fa-1a2b3c4d`."""
    return f"{config.run_id}-{code_version()}"
