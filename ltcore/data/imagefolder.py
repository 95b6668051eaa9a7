"""The user's own folder of class sub-folders (torchvision ImageFolder rules).

Classes are the sorted sub-folder names (hidden ones such as `.ipynb_checkpoints` are ignored);
symbolic links are never followed out of their class folder (a link to a parent folder would file
other classes' images under this one): linked class folders, links to folders and links to files
outside their class folder are skipped and counted in the warnings. Only regular files are ever
opened (a named pipe or device named `x.png` would block the reader forever; it is skipped and
counted). Files with torchvision's IMG_EXTENSIONS are decoded, converted to RGB and fitted to
size×size (centre crop to a square, antialiased resize) as uint8; 16-bit grey images are scaled to
8 bits (not clipped to white), and every conversion that loses information (16 → 8 bits,
transparency, CMYK, floating point) is named in the warnings. Other files and images PIL cannot
read are skipped and counted in `DataSplit.warnings`. A balanced test split (the same number per class,
fixed seed) is held out, then a balanced validation split from what remains (see
`validation_per_class`); the training pool keeps the folder's natural imbalance.

A folder with `train/` and `test/` sub-folders (each a folder of the same class sub-folders, as
CIFAR-10 is often kept as image files) uses its own test split: every image of `test/` is the test
set, and the validation split is held out of `train/` before anything else, so it never comes from
the pool a long-tailed subset is drawn from; the training pool is the rest of `train/`.
"""
from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DataMissingError
from ..safety import check_path
from .base import DATASETS, DataSplit
from .holdout import TEST_HOLDOUT_SEED, VAL_HOLDOUT_SEED, balanced_holdout

TEST_FRACTION = 0.2       # of the smallest class, held out per class for the balanced test set
TEST_MAX_PER_CLASS = 50
VAL_FRACTION = 0.1        # of the smallest class, held out per class for the validation split
VAL_MAX_PER_CLASS = 25
NAMES_SHOWN = 5           # skipped files named in a warning


def test_per_class(smallest: int) -> int:
    """Balanced test images per class: min(20% of the smallest class, 50), at least 1."""
    return max(1, min(int(TEST_FRACTION * smallest), TEST_MAX_PER_CLASS))


def validation_per_class(smallest: int) -> int:
    """Validation images per class: min(10% of the smallest class, 25); none below 10 images (a
    folder that small has too few to choose hyper-parameters on, and keeps them for training)."""
    return min(int(VAL_FRACTION * smallest), VAL_MAX_PER_CLASS)


def _hidden(path: str, root: Path) -> bool:
    return any(part.startswith(".") for part in Path(path).relative_to(root).parts)


def scan_folder(root: Path) -> tuple[list[str], list[tuple[str, int]], list[str], list[str], list[str]]:
    """(classes, [(image path, class index)], [non-image paths], [skipped links], [files that are
    not regular files]) following ImageFolder's rules (sorted classes, sorted walk), except that
    links are not followed and pipes, sockets and devices are never opened."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, has_file_allowed_extension

    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise DataMissingError(f"cannot read the image folder {root} ({exc.strerror or exc}); "
                               "give a folder you can read") from None
    entries = [e for e in entries if not e.name.startswith(".")]
    links = [e.path for e in entries if e.is_symlink()]
    classes = [e.name for e in entries if not e.is_symlink() and e.is_dir(follow_symlinks=False)]
    if len(classes) < 2:
        found = f" (found: {', '.join(classes)})" if classes else ""
        raise DataMissingError(
            f"an image folder needs at least 2 class sub-folders in {root}{found}; put each class's "
            f"images in its own sub-folder, e.g. {root / 'cat' / '001.png'}")
    images, others, special = [], [], []
    for index, name in enumerate(classes):
        folder = root / name
        for path in _class_files(folder, links):
            if _hidden(path, root):
                continue
            if not regular_file(path):
                special.append(path)
            elif has_file_allowed_extension(path, IMG_EXTENSIONS):
                images.append((path, index))
            else:
                others.append(path)
    return classes, images, others, links, special


def regular_file(path: str) -> bool:
    """Is `path` (after its link, if any) a regular file? Only those are read: opening a named
    pipe blocks until someone writes to it, a device may never end."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _class_files(folder: Path, links: list[str]) -> list[str]:
    """Files under one class folder in ImageFolder's order, links kept only when they point to a
    file inside this folder (others appended to `links`)."""
    inside = folder.resolve()
    files = []
    for current, dirs, names in sorted(os.walk(folder, followlinks=False)):
        links += [os.path.join(current, d) for d in sorted(dirs) if os.path.islink(os.path.join(current, d))]
        for fname in sorted(names):
            path = os.path.join(current, fname)
            if os.path.islink(path):
                try:
                    target = Path(path).resolve(strict=True)
                except (OSError, RuntimeError):  # broken link or loop
                    links.append(path)
                    continue
                if not target.is_file() or not target.is_relative_to(inside):
                    links.append(path)
                    continue
            files.append(path)
    return files


LOSSY_MODES = {  # PIL mode → what converting it to 8-bit RGB loses
    "I;16": "16-bit grey reduced to 8 bits", "I;16B": "16-bit grey reduced to 8 bits",
    "I;16L": "16-bit grey reduced to 8 bits", "I;16N": "16-bit grey reduced to 8 bits",
    "I": "16/32-bit grey reduced to 8 bits", "F": "floating-point grey clipped to 0–255",
    "RGBA": "transparency dropped", "LA": "transparency dropped", "PA": "transparency dropped",
    "RGBa": "transparency dropped", "La": "transparency dropped", "CMYK": "CMYK converted to RGB",
}


def open_regular(path: str):
    """A binary file object of `path`, or None when it is not a regular file: opened without
    blocking (a pipe swapped in after the scan does not hang the reader), checked, then read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def to_rgb(img):
    """(8-bit RGB image, what was lost or ""): 16-bit grey is scaled by 1/257 (PIL's own convert
    clips it, so a 16-bit photo turns nearly white); palette images with transparency count too."""
    from PIL import Image

    mode = img.mode
    lost = LOSSY_MODES.get(mode, "")
    if mode == "P" and "transparency" in img.info:
        lost = "transparency dropped"
    if mode.startswith("I"):
        wide = np.asarray(img, dtype=np.int64)
        grey = np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), lost
    return img.convert("RGB"), lost


def decode_image(path: str, size: int) -> tuple[np.ndarray | None, str]:
    """((size, size, 3) uint8 RGB, what its conversion lost or ""), or (None, "") when the file is
    not a regular file or PIL cannot read it."""
    from PIL import Image, ImageOps

    handle = open_regular(path)
    if handle is None:
        return None, ""
    try:
        with handle, Image.open(handle) as img:
            img.draft("RGB", (size, size))  # JPEG: decode at a reduced scale (much faster)
            rgb, lost = to_rgb(img)
            return np.asarray(ImageOps.fit(rgb, (size, size), Image.Resampling.BILINEAR), dtype=np.uint8), lost
    except Exception:  # truncated, corrupt or mislabelled files are skipped and counted
        return None, ""


@lru_cache(maxsize=4)
def decode_folder(samples: tuple, size: int, signature: tuple):
    """Decode every image once per (files, sizes, mtimes): (x uint8 NCHW, y, unreadable paths,
    {what a conversion lost: paths})."""
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding
        decoded = list(pool.map(lambda s: decode_image(s[0], size), samples))
    arrays = [a for a, _ in decoded]
    lossy: dict[str, list[str]] = {}
    for sample, (array, lost) in zip(samples, decoded):
        if array is not None and lost:
            lossy.setdefault(lost, []).append(sample[0])
    ok = [i for i, a in enumerate(arrays) if a is not None]
    unreadable = tuple(samples[i][0] for i, a in enumerate(arrays) if a is None)
    x = torch.from_numpy(np.stack([arrays[i] for i in ok])) if ok else torch.zeros(0, size, size, 3,
                                                                                      dtype=torch.uint8)
    y = torch.tensor([samples[i][1] for i in ok], dtype=torch.long)
    return x.permute(0, 3, 1, 2).contiguous(), y, unreadable, lossy


def channel_stats(x: torch.Tensor, chunk: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images in [0, 1] units, in chunks (bounded memory)."""
    s = torch.zeros(x.shape[1], dtype=torch.float64)
    s2 = torch.zeros_like(s)
    for start in range(0, len(x), chunk):
        xb = x[start:start + chunk].to(torch.float64) / 255.0
        s += xb.sum(dim=(0, 2, 3))
        s2 += (xb * xb).sum(dim=(0, 2, 3))
    n = max(len(x) * x.shape[2] * x.shape[3], 1)
    mean = s / n
    std = (s2 / n - mean * mean).clamp_min(0).sqrt().clamp_min(1 / 255)  # flat colour: no 1/0
    return tuple(mean.tolist()), tuple(std.tolist())


def _skip_warning(what: str, paths, root: Path, why: str = "") -> list[str]:
    if not paths:
        return []
    plural = "s" if len(paths) != 1 else ""
    return [_names_warning(f"skipped {len(paths)} {what}{plural}", paths, root) + why]


def _names_warning(head: str, paths, root: Path) -> str:
    """`head: a, b, c, … (+N more)` with the first NAMES_SHOWN paths relative to `root`."""
    names = [Path(p).relative_to(root).as_posix() for p in paths]
    more = f", … (+{len(names) - NAMES_SHOWN} more)" if len(names) > NAMES_SHOWN else ""
    return f"{head}: {', '.join(names[:NAMES_SHOWN])}{more}"


def _root(path) -> Path:
    """The folder, resolved and checked against the shared server's allowed roots."""
    if not path:
        raise ConfigError("the imagefolder data set needs a path (a folder of class sub-folders)")
    root = check_path(path)
    if not root.exists():
        raise DataMissingError(f"image folder {root} does not exist; give the path of a folder "
                               "that holds one sub-folder of images per class")
    if not root.is_dir():
        raise ConfigError(f"{root} is a file, not a folder; give the folder that holds one "
                          "sub-folder of images per class")
    return root


SPLIT_FOLDERS = ("train", "test")


def has_split_folders(root: Path) -> bool:
    """Whether `root` holds `train/` and `test/` folders (the given-test-split layout)."""
    return all((root / name).is_dir() and not (root / name).is_symlink() for name in SPLIT_FOLDERS)


def read_images(root: Path, size: int):
    """(classes, x uint8 NCHW, y, warnings) of one folder of class sub-folders."""
    classes, samples, others, links, special = scan_folder(root)
    signature = tuple((p, st.st_size, st.st_mtime_ns) for p, st in
                      ((p, os.stat(p)) for p, _ in samples))
    x, y, unreadable, lossy = decode_folder(tuple(samples), int(size), signature)
    warnings = (_skip_warning("non-image file", others, root)
                + _skip_warning("unreadable image file", unreadable, root)
                + _skip_warning("symbolic link", links, root, " (links are not followed out of a class folder)")
                + _skip_warning("special file", special, root,
                                " (not regular files: pipes, sockets and devices are never opened)")
                + [_names_warning(f"converted {len(paths)} image{'s' if len(paths) != 1 else ''} lossily ({what})",
                                  paths, root) for what, paths in sorted(lossy.items())])
    return classes, x, y, warnings


def load_given_split(root: Path, size: int) -> DataSplit:
    """`train/` + `test/`: the test folder as the test set, a balanced validation split of
    `validation_per_class` per class held out of `train/`, the rest the training pool."""
    classes, x, y, warnings = read_images(root / "train", size)
    test_classes, x_te, y_te, test_warnings = read_images(root / "test", size)
    if test_classes != classes:
        only_train = sorted(set(classes) - set(test_classes))
        only_test = sorted(set(test_classes) - set(classes))
        raise DataMissingError(
            f"{root / 'train'} and {root / 'test'} must hold the same class folders; only in train: "
            f"{', '.join(only_train) or '-'}; only in test: {', '.join(only_test) or '-'}")
    counts = torch.bincount(y, minlength=len(classes)).tolist()
    test_counts = torch.bincount(y_te, minlength=len(classes)).tolist()
    empty = [f"{c}" for c, n in zip(classes, counts) if n == 0] + \
        [f"test/{c}" for c, n in zip(classes, test_counts) if n == 0]
    if empty:
        raise DataMissingError(f"class folder(s) {', '.join(empty)} in {root} have no readable image; "
                               "every class needs images in train/ and in test/")
    n_val = validation_per_class(min(counts))
    tr, va = balanced_holdout(y, n_val, VAL_HOLDOUT_SEED)
    mean, std = channel_stats(x[tr])
    warnings = warnings + [w.replace("skipped", "skipped in test/", 1) for w in test_warnings]
    if n_val == 0:
        warnings.append(f"no validation split: the smallest class of train/ has {min(counts)} images "
                        f"(fewer than {int(1 / VAL_FRACTION)}), so nothing can be tuned on held-out images")
    if len(set(test_counts)) > 1:
        warnings.append(f"test/ is not balanced ({min(test_counts)} to {max(test_counts)} images a class): "
                        "overall accuracy weighs classes unequally; balanced accuracy does not")
    return DataSplit("imagefolder", x[tr], y[tr], x_te, y_te, classes, mean, std, warnings,
                     x_val=x[va], y_val=y[va])


@DATASETS.register(
    "imagefolder", "your own folder of class sub-folders (ImageFolder rules), RGB resized to 32×32; "
    "natural imbalance kept (profile none) or re-profiled; balanced test of min(20% of the "
    "smallest class, 50) per class and validation split of min(10%, 25) per class, or, for a "
    "folder with train/ and test/ sub-folders, test/ as the test set and the validation split "
    "from train/",
    shape=(3, 32, 32), num_classes=None, kind="image", augment="crop_flip", model="resnet32",
    offline=False, needs_path=True)
def load_imagefolder(data_dir: Path, seed: int = 0, path: str = "", size: int = 32) -> DataSplit:
    """Load `path` (data_dir is unused); the test and validation splits' seeds are fixed,
    independent of `seed`."""
    if int(size) < 4:
        raise ConfigError(f"image size must be at least 4 pixels, got {size}")
    root = _root(path)
    if has_split_folders(root):
        return load_given_split(root, int(size))
    classes, x, y, warnings = read_images(root, int(size))
    counts = torch.bincount(y, minlength=len(classes)).tolist()
    short = [f"{c} ({n})" for c, n in zip(classes, counts) if n < 2]
    if short:
        raise DataMissingError(
            f"class folder(s) {', '.join(short)} in {root} have fewer than 2 readable images; each "
            "class needs at least 2 (one is held out for the balanced test set): add images or "
            "remove the folder")
    pool, te = balanced_holdout(y, test_per_class(min(counts)), TEST_HOLDOUT_SEED)
    n_val = validation_per_class(min(counts))
    rest, va = balanced_holdout(y[pool], n_val, VAL_HOLDOUT_SEED)
    tr, va = pool[rest], pool[va]
    mean, std = channel_stats(x[tr])
    if n_val == 0:
        warnings.append(f"no validation split: the smallest class has {min(counts)} images (fewer "
                        f"than {int(1 / VAL_FRACTION)}), so nothing can be tuned on held-out images")
    return DataSplit("imagefolder", x[tr], y[tr], x[te], y[te], classes, mean, std, warnings,
                     x_val=x[va], y_val=y[va])
