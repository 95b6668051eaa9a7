"""Where the lab keeps its files: the data folder (downloads, the run store, checkpoints). Low in the
layers so that the data loaders and the shared-server path check (`safety`) can both use it."""
from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """`$LTLAB_DATA`, else `~/.cache/longtail-lab` (where downloads and the run store go)."""
    return Path(os.environ.get("LTLAB_DATA") or Path.home() / ".cache" / "longtail-lab").expanduser()
