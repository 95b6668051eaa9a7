"""Tensors and arrays inside a result, kept as `.npy` files beside the store with a SHA-256 checksum."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import torch

from ..engine.checkpoints import atomic_write, file_sha256  # noqa: F401  (file_sha256: for the store)
from ..errors import LTError

REF = "__array__"


def split_arrays(obj, path: str = "", found: dict | None = None):
    """Copy of `obj` with every tensor/ndarray replaced by `{"__array__": key}`; returns (copy, {key: array})."""
    found = {} if found is None else found
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        key = f"{len(found):03d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', path)}"[:96]
        found[key] = obj
        return {REF: key, "kind": "torch" if isinstance(obj, torch.Tensor) else "numpy"}, found
    if isinstance(obj, dict):
        return {k: split_arrays(v, f"{path}.{k}" if path else str(k), found)[0] for k, v in obj.items()}, found
    if isinstance(obj, (list, tuple)):
        return [split_arrays(v, f"{path}.{i}", found)[0] for i, v in enumerate(obj)], found
    return obj, found


def join_arrays(obj, load):
    """Inverse of `split_arrays`: `load(key, kind)` returns the array for each reference."""
    if isinstance(obj, dict):
        if REF in obj:
            return load(obj[REF], obj.get("kind", "numpy"))
        return {k: join_arrays(v, load) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_arrays(v, load) for v in obj]
    return obj


def to_numpy(array) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu()
        if array.dtype == torch.bfloat16:
            array = array.float()
        return array.numpy()
    return np.asarray(array)


def write_array(folder: Path, key: str, array) -> dict:
    """Write one array atomically as `.npy` (no pickles); returns file name, checksum, dtype and shape."""
    data = to_numpy(array)
    buffer = io.BytesIO()
    np.save(buffer, data, allow_pickle=False)
    blob = buffer.getvalue()
    path = folder / f"{key}.npy"
    atomic_write(path, lambda f: f.write(blob))
    return {"file": path.name, "sha256": hashlib.sha256(blob).hexdigest(), "dtype": str(data.dtype),
            "shape": list(data.shape)}


def read_array(path: Path, sha256: str, kind: str = "numpy"):
    """Load an `.npy` file after checking its checksum; a mismatch is an LTError naming the file."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise LTError(f"array file {path} is missing; delete the run and train it again") from None
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise LTError(f"array file {path} is corrupt (checksum mismatch); delete the run and train it again")
    data = np.load(io.BytesIO(blob), allow_pickle=False)
    return torch.from_numpy(data) if kind == "torch" else data
