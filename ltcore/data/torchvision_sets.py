"""torchvision data sets (MNIST, Fashion-MNIST, CIFAR-10/100, SVHN) as DataSplits.

The files are read by torchvision's own dataset classes from `data_dir`; the decoded uint8 tensors
are cached next to them (`ltlab-uint8.pt`, keyed by the files' sizes and mtimes) so later runs skip
decoding and md5 checks. With no files and no network (or `LTLAB_OFFLINE=1`) the loader raises
DataMissingError naming the files to put where, instead of a traceback.
"""
from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..errors import DataMissingError
from .base import DATASETS, DataSplit
from .holdout import TEST_HOLDOUT_SEED, balanced_holdout, carve_validation

CACHE_NAME = "ltlab-uint8.pt"
CACHE_VERSION = 1
DOWNLOAD_TIMEOUT_S = 20.0
SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"

Arrays = tuple  # (x_train uint8 NCHW, y_train int64, x_test, y_test, classes)


@dataclass(frozen=True)
class Layout:
    """Where one data set's files live under data_dir, and what a user must put there."""

    folder: Path                          # the files' folder; the decoded cache goes here too
    sources: tuple[Path, ...]             # files torchvision decodes (their stat keys the cache)
    archives: tuple[tuple[Path, str], ...]  # (download, md5) torchvision can unpack with no network
    expected: str                         # "put … in …" instruction for the error message


@dataclass(frozen=True)
class TorchvisionSet:
    """One registered data set: its file layout, its torchvision reader and its normalisation."""

    name: str
    title: str
    layout: Callable[[Path], Layout]
    read: Callable[[Path, bool], Arrays]
    mean: tuple[float, ...]
    std: tuple[float, ...]


def _datasets():
    from torchvision import datasets  # imported lazily: `import ltcore` stays fast

    return datasets


def offline() -> bool:
    """True when `LTLAB_OFFLINE` is set (1/true/yes): never try to download."""
    return os.environ.get("LTLAB_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _nchw(hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(hwc)).permute(0, 3, 1, 2).contiguous()


def _labels(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values), dtype=torch.long)


def _cifar(cls_name: str):
    """CIFAR-10/100 python pickles: `<data_dir>/cifar-10(0)-…/` or the .tar.gz in `<data_dir>`."""

    def layout(data_dir: Path) -> Layout:
        cls = getattr(_datasets(), cls_name)
        folder = data_dir / cls.base_folder
        names = [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
        expected = (f"put {cls.filename} (from {cls.url}) in {data_dir}, or its extracted folder "
                    f"{cls.base_folder}/ (with {', '.join(names)}) there")
        return Layout(folder, tuple(folder / n for n in names),
                      ((data_dir / cls.filename, cls.tgz_md5),), expected)

    def read(data_dir: Path, download: bool) -> Arrays:
        cls = getattr(_datasets(), cls_name)
        train = cls(str(data_dir), train=True, download=download)
        test = cls(str(data_dir), train=False)
        return (_nchw(train.data), _labels(train.targets), _nchw(test.data), _labels(test.targets),
                list(train.classes))

    return layout, read


def _mnist(cls_name: str, classes: list[str] | None = None):
    """MNIST-format IDX files in `<data_dir>/<ClassName>/raw/`, gzipped or not."""

    def layout(data_dir: Path) -> Layout:
        cls = getattr(_datasets(), cls_name)
        raw = data_dir / cls_name / "raw"
        gz = [f for f, _ in cls.resources]
        expected = (f"put {', '.join(gz)} (from {cls.mirrors[0]}), gzipped or unzipped, in {raw}")
        return Layout(raw, tuple(raw / f.removesuffix(".gz") for f in gz),
                      tuple((raw / f, md5) for f, md5 in cls.resources), expected)

    def read(data_dir: Path, download: bool) -> Arrays:
        cls = getattr(_datasets(), cls_name)
        train = cls(str(data_dir), train=True, download=download)
        test = cls(str(data_dir), train=False)
        return (train.data.unsqueeze(1).contiguous(), train.targets.long(),
                test.data.unsqueeze(1).contiguous(), test.targets.long(), classes or list(cls.classes))

    return layout, read


def _svhn():
    """SVHN cropped digits: train_32x32.mat and test_32x32.mat in `<data_dir>/SVHN/`."""

    def layout(data_dir: Path) -> Layout:
        split_list = _datasets().SVHN.split_list
        folder = data_dir / "SVHN"
        names = [split_list[s][1] for s in ("train", "test")]
        return Layout(folder, tuple(folder / n for n in names), (),
                      f"put {' and '.join(names)} (from {SVHN_URL}) in {folder}")

    def read(data_dir: Path, download: bool) -> Arrays:
        svhn = _datasets().SVHN
        train = svhn(str(data_dir / "SVHN"), split="train", download=download)
        test = svhn(str(data_dir / "SVHN"), split="test", download=download)
        # torchvision maps SVHN's label 10 to digit 0 and returns images as (N, 3, 32, 32)
        return (torch.from_numpy(np.ascontiguousarray(train.data)), _labels(train.labels),
                torch.from_numpy(np.ascontiguousarray(test.data)), _labels(test.labels),
                [str(d) for d in range(10)])

    return layout, read


def _signature(paths) -> list | None:
    try:
        return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in paths]
    except OSError:
        return None


def read_cache(layout: Layout) -> Arrays | None:
    """The decoded tensors saved by an earlier run, if the source files are unchanged."""
    path = layout.folder / CACHE_NAME
    sig = _signature(layout.sources)
    if sig is None or not path.is_file():
        return None
    try:
        blob = torch.load(path, weights_only=True)
    except Exception:  # an unreadable cache is rebuilt, never fatal
        return None
    if blob.get("version") != CACHE_VERSION or blob.get("source") != sig:
        return None
    return blob["x_train"], blob["y_train"], blob["x_test"], blob["y_test"], list(blob["classes"])


def write_cache(layout: Layout, arrays: Arrays) -> None:
    """Save decoded tensors next to the raw files (atomically; a read-only folder is fine)."""
    x_tr, y_tr, x_te, y_te, classes = arrays
    blob = {"version": CACHE_VERSION, "source": _signature(layout.sources), "x_train": x_tr,
            "y_train": y_tr, "x_test": x_te, "y_test": y_te, "classes": list(classes)}
    tmp = layout.folder / f".{CACHE_NAME}.{os.getpid()}.tmp"
    try:
        torch.save(blob, tmp)
        os.replace(tmp, layout.folder / CACHE_NAME)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    """Fail fast without a network: a default socket timeout while torchvision downloads."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds if old is None else old)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def missing_error(spec: TorchvisionSet, layout: Layout, reason: str) -> DataMissingError:
    return DataMissingError(
        f"{spec.title} files are missing or corrupted in {layout.folder} and {reason}: "
        f"{layout.expected} (or point --data-dir / LTLAB_DATA at a folder that has them)")


def read_arrays(spec: TorchvisionSet, data_dir: Path) -> Arrays:
    """Existing files first; then torchvision's download (or unpacking of a local archive)."""
    layout = spec.layout(data_dir)
    cached = read_cache(layout)
    if cached is not None:
        return cached
    try:
        arrays = spec.read(data_dir, False)
    except RuntimeError:  # torchvision: "Dataset not found or corrupted"
        local = bool(layout.archives) and all(
            _datasets().utils.check_integrity(str(p), md5) for p, md5 in layout.archives)
        if offline() and not local:
            raise missing_error(spec, layout, "downloads are off (LTLAB_OFFLINE)") from None
        try:
            with _socket_timeout(DOWNLOAD_TIMEOUT_S):
                arrays = spec.read(data_dir, True)
        except Exception as exc:  # any download/unpack failure becomes one readable line
            detail = ([ln for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__])[-1].strip()
            raise missing_error(spec, layout, f"the download failed ({detail})") from None
    except Exception as exc:
        raise DataMissingError(f"{spec.title} files in {layout.folder} could not be read ({exc}); "
                               f"replace them: {layout.expected}") from None
    write_cache(layout, arrays)
    return arrays


def balanced_test_indices(y: torch.Tensor) -> torch.Tensor:
    """All test indices when balanced; else each class subsampled to the smallest (fixed seed)."""
    counts = torch.bincount(y)
    if len(y) == 0 or int(counts.min()) == int(counts.max()):
        return torch.arange(len(y))
    return balanced_holdout(y, int(counts.min()), TEST_HOLDOUT_SEED)[1]


def load_torchvision_set(spec: TorchvisionSet, data_dir: Path) -> DataSplit:
    """A DataSplit of uint8 NCHW tensors: the official train split, and the official test split
    made balanced and divided into a validation split (10% per class, `validation_per_class`) and
    the test set. The validation split comes from the test pool, not the training pool, so the
    long-tailed training sets keep the published sizes (CIFAR-10 ρ100: 5000…50, 12,406 images);
    the test set is then 90% of the official one (CIFAR-10: 900/class), an unbiased estimate of
    the same balanced accuracy."""
    x_tr, y_tr, x_te, y_te, classes = read_arrays(spec, Path(data_dir).expanduser())
    keep = balanced_test_indices(y_te)
    x_te, y_te, x_va, y_va = carve_validation(x_te[keep], y_te[keep])
    return DataSplit(spec.name, x_tr, y_tr, x_te, y_te, list(classes), spec.mean, spec.std,
                     x_val=x_va, y_val=y_va)


def _register(name: str, title: str, reader, mean, std, description: str, shape, num_classes,
              augment: str, model: str) -> None:
    layout, read = reader
    spec = TorchvisionSet(name, title, layout, read, mean, std)

    def loader(data_dir: Path, seed: int = 0) -> DataSplit:
        return load_torchvision_set(spec, data_dir)

    loader.__doc__ = f"{title} via torchvision ({description})."
    DATASETS.add(name, loader, description, shape=shape, num_classes=num_classes, kind="image",
                 augment=augment, model=model, offline=False)


# mean/std: CIFAR-10 as the LDAM-DRW recipe (methods.md); the others the commonly used values.
_register("mnist", "MNIST", _mnist("MNIST", [str(d) for d in range(10)]), (0.1307,), (0.3081,),
          "MNIST handwritten digits, 28×28 grey, 10 classes; test subsampled to 892/class (balanced), "
          "of which 89/class are the validation split",
          (1, 28, 28), 10, "none", "cnn")
_register("fashion_mnist", "Fashion-MNIST", _mnist("FashionMNIST"), (0.2860,), (0.3530,),
          "Fashion-MNIST clothing, 28×28 grey, 10 classes; 900/class balanced test, 100/class validation",
          (1, 28, 28), 10, "none", "cnn")
_register("cifar10", "CIFAR-10", _cifar("CIFAR10"), (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010),
          "CIFAR-10, 32×32 colour, 10 classes, 5000/class train; 900/class balanced test, "
          "100/class validation (both from the official test split)",
          (3, 32, 32), 10, "crop_flip", "resnet32")
_register("cifar100", "CIFAR-100", _cifar("CIFAR100"), (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762),
          "CIFAR-100, 32×32 colour, 100 classes, 500/class train; 90/class balanced test, "
          "10/class validation (both from the official test split)",
          (3, 32, 32), 100, "crop_flip", "resnet32")
_register("svhn", "SVHN", _svhn(), (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970),
          "SVHN house-number digits, 32×32 colour, 10 classes, naturally imbalanced train; "
          "test subsampled to 1595/class (balanced), of which 159/class are the validation split",
          (3, 32, 32), 10, "crop", "resnet32")
