"""The real torchvision loaders and the image-folder loader, on tiny files in the real formats.

No network: LTLAB_OFFLINE=1, and torchvision's md5 lists are pointed at the files written here so
torchvision's own reading code runs unchanged.
"""
from __future__ import annotations

import hashlib
import pickle
import struct
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets

from ltcore import Config, train
from ltcore.data import DATASETS, load_split, make_longtail
from ltcore.data.torchvision_sets import CACHE_NAME
from ltcore.errors import ConfigError, DataMissingError, LTError

TORCHVISION_SETS = ["mnist", "fashion_mnist", "cifar10", "cifar100", "svhn"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setenv("LTLAB_OFFLINE", "1")


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 `str` opcodes, as the original CIFAR pickles were written."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        head = pickle.SHORT_BINSTRING + bytes([len(obj)]) if len(obj) < 256 else \
            pickle.BINSTRING + struct.pack("<i", len(obj))
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def write_py2_pickle(path, obj) -> None:
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)


def images(labels, channels=3, size=32):
    """Image k has every pixel equal to 10·label + k mod 10: labels < 25 can be read back from pixels."""
    labels = np.asarray(labels)
    values = (10 * labels + np.arange(len(labels)) % 10).astype(np.uint8)
    return np.broadcast_to(values[:, None, None, None], (len(labels), channels, size, size)).copy()


def write_cifar(root, cls, train_labels, test_labels, names, label_key):
    """CIFAR python version: pickled dicts with b"data" (N, 3072) uint8 rows in CHW order."""
    folder = root / cls.base_folder
    folder.mkdir(parents=True)
    train_files = [f for f, _ in cls.train_list]
    chunks = np.array_split(np.asarray(train_labels), len(train_files))
    for name, lab in list(zip(train_files, chunks)) + [(cls.test_list[0][0], np.asarray(test_labels))]:
        write_py2_pickle(folder / name, {b"batch_label": name.encode(), label_key: [int(v) for v in lab],
                                         b"data": images(lab).reshape(len(lab), 3072),
                                         b"filenames": [f"{i}.png".encode() for i in range(len(lab))]})
    meta_key = cls.meta["key"].encode()
    write_py2_pickle(folder / cls.meta["filename"], {meta_key: [n.encode() for n in names]})
    return folder


def patch_md5(monkeypatch, cls, folder):
    monkeypatch.setattr(cls, "train_list", [[f, md5(folder / f)] for f, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[f, md5(folder / f)] for f, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5(folder / cls.meta["filename"])})


def write_idx(path, array: np.ndarray) -> None:
    """MNIST IDX: magic 0x0000 08 ndim (unsigned byte), big-endian int32 dims, raw bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root, cls_name, train_labels, test_labels):
    raw = root / cls_name / "raw"
    for split, lab in (("train", train_labels), ("t10k", test_labels)):
        write_idx(raw / f"{split}-images-idx3-ubyte", images(lab, 1, 28)[:, 0])
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.asarray(lab))


def write_svhn(root, monkeypatch, train_labels, test_labels):
    """SVHN .mat: X (32, 32, 3, N) uint8 and y (N, 1) with label 10 for the digit 0."""
    from scipy.io import savemat

    folder = root / "SVHN"
    folder.mkdir(parents=True)
    split_list = {k: list(v) for k, v in datasets.SVHN.split_list.items()}
    for split, lab in (("train", train_labels), ("test", test_labels)):
        x = images(lab).transpose(2, 3, 1, 0)  # (N, C, H, W) → (H, W, C, N)
        y = np.where(np.asarray(lab) == 0, 10, lab).astype(np.uint8)[:, None]
        savemat(folder / split_list[split][1], {"X": x, "y": y})
        split_list[split][2] = md5(folder / split_list[split][1])
    monkeypatch.setattr(datasets.SVHN, "split_list", split_list)


def labels_from_pixels(x: torch.Tensor) -> torch.Tensor:
    return x[:, 0, 0, 0].long() // 10


CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_cifar10_pickles_load_through_torchvision_and_cache(tmp_path, monkeypatch):
    train_labels = np.tile(np.arange(10), 3)            # 30 images: 3 per class, 5 batch files
    folder = write_cifar(tmp_path, datasets.CIFAR10, train_labels, np.arange(10).repeat(2),
                         CIFAR10_NAMES, b"labels")
    with open(folder / "data_batch_1", "rb") as f:      # the keys are Python 2 strings, as in the real files
        assert set(pickle.load(f, encoding="bytes")) == {b"batch_label", b"labels", b"data", b"filenames"}
    patch_md5(monkeypatch, datasets.CIFAR10, folder)
    split = load_split("cifar10", data_dir=tmp_path)
    assert split.x_train.shape == (30, 3, 32, 32) and split.x_train.dtype == torch.uint8
    # the 20 test images (2 per class) are divided into a test set and a validation split, 1 + 1
    assert split.x_test.shape == (10, 3, 32, 32) and split.y_train.dtype == torch.int64
    assert split.x_val.shape == (10, 3, 32, 32) and torch.equal(labels_from_pixels(split.x_val), split.y_val)
    assert not set(split.x_val[:, 0, 0, 0].tolist()) & set(split.x_test[:, 0, 0, 0].tolist())
    assert split.y_train.tolist() == train_labels.tolist()
    assert torch.equal(labels_from_pixels(split.x_train), split.y_train)
    assert torch.equal(labels_from_pixels(split.x_test), split.y_test)
    assert split.classes == CIFAR10_NAMES
    assert split.mean == (0.4914, 0.4822, 0.4465) and split.std == (0.2023, 0.1994, 0.2010)
    assert (folder / CACHE_NAME).is_file()

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cached tensors should have been used")

    monkeypatch.setattr(datasets.CIFAR10, "__init__", no_decoding)
    again = load_split("cifar10", data_dir=tmp_path)
    assert torch.equal(again.x_train, split.x_train) and torch.equal(again.y_test, split.y_test)
    assert torch.equal(again.x_val, split.x_val)
    a, b = make_longtail(split, "exp", 3, seed=7), make_longtail(again, "exp", 3, seed=7)
    assert a.counts == b.counts == [3, 2, 2, 2, 1, 1, 1, 1, 1, 1]  # int(3·(1/3)^(i/9))
    assert torch.equal(a.train_idx, b.train_idx)


def test_cifar10_archive_is_unpacked_offline(tmp_path, monkeypatch):
    src = tmp_path / "src"
    folder = write_cifar(src, datasets.CIFAR10, np.arange(10).repeat(1), np.arange(10), CIFAR10_NAMES, b"labels")
    patch_md5(monkeypatch, datasets.CIFAR10, folder)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with tarfile.open(data_dir / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(data_dir / "cifar-10-python.tar.gz"))
    split = load_split("cifar10", data_dir=data_dir)
    assert split.y_test.tolist() == list(range(10)) and (data_dir / "cifar-10-batches-py").is_dir()


def test_cifar100_fine_labels_and_names(tmp_path, monkeypatch):
    names = [f"class_{k:02d}" for k in range(100)]
    train_labels = np.arange(100).repeat(2)
    folder = write_cifar(tmp_path, datasets.CIFAR100, train_labels, np.arange(100), names, b"fine_labels")
    patch_md5(monkeypatch, datasets.CIFAR100, folder)
    split = load_split("cifar100", data_dir=tmp_path)
    assert split.num_classes == 100 and split.classes == names
    assert split.x_train.shape == (200, 3, 32, 32)
    assert split.y_train.tolist() == train_labels.tolist() and split.y_test.tolist() == list(range(100))
    assert split.std == (0.2673, 0.2564, 0.2762)


@pytest.mark.parametrize("name,cls_name", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_idx_files_and_balanced_test(tmp_path, name, cls_name):
    train_labels = np.tile(np.arange(10), 2)
    test_labels = np.concatenate([np.arange(10).repeat(2), [3, 3, 7]])  # classes 3 and 7 have 4 and 3
    write_mnist(tmp_path, cls_name, train_labels, test_labels)
    split = load_split(name, data_dir=tmp_path)
    assert split.x_train.shape == (20, 1, 28, 28) and split.x_train.dtype == torch.uint8
    assert split.y_train.tolist() == train_labels.tolist()
    # subsampled to the smallest class (2), then one of each class is the validation split
    assert torch.bincount(split.y_test).tolist() == [1] * 10
    assert torch.bincount(split.y_val).tolist() == [1] * 10
    assert torch.equal(labels_from_pixels(split.x_val), split.y_val)
    assert torch.equal(labels_from_pixels(split.x_test), split.y_test)
    assert len(split.mean) == 1 and len(split.std) == 1
    expected = [str(d) for d in range(10)] if name == "mnist" else datasets.FashionMNIST.classes
    assert split.classes == expected


def test_svhn_mat_files_label_10_is_digit_0(tmp_path, monkeypatch):
    train_labels = np.array([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9])
    test_labels = np.concatenate([np.arange(10).repeat(2), [0, 1, 1]])
    write_svhn(tmp_path, monkeypatch, train_labels, test_labels)
    split = load_split("svhn", data_dir=tmp_path)
    assert split.x_train.shape == (14, 3, 32, 32) and split.x_train.dtype == torch.uint8
    assert split.y_train.tolist() == train_labels.tolist()  # SVHN's 10 came back as 0
    assert torch.equal(labels_from_pixels(split.x_train), split.y_train)
    assert torch.bincount(split.y_test).tolist() == [1] * 10
    assert torch.bincount(split.y_val).tolist() == [1] * 10
    assert split.classes == [str(d) for d in range(10)]


@pytest.mark.parametrize("name", TORCHVISION_SETS)
def test_missing_files_say_which_files_go_where(tmp_path, name):
    with pytest.raises(DataMissingError) as info:
        load_split(name, data_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message and "http" in message
    expected = {"cifar10": ["cifar-10-python.tar.gz", "cifar-10-batches-py/"],
                "cifar100": ["cifar-100-python.tar.gz", "cifar-100-python/"],
                "mnist": ["train-images-idx3-ubyte.gz", str(tmp_path / "MNIST" / "raw")],
                "fashion_mnist": ["t10k-labels-idx1-ubyte.gz", str(tmp_path / "FashionMNIST" / "raw")],
                "svhn": ["train_32x32.mat", "test_32x32.mat", str(tmp_path / "SVHN")]}[name]
    assert all(part in message for part in expected), message


@pytest.mark.parametrize("name", TORCHVISION_SETS + ["imagefolder"])
def test_registry_meta(name):
    meta = DATASETS.get(name).meta
    assert meta["kind"] == "image" and meta["offline"] is False
    assert meta["augment"] == {"cifar10": "crop_flip", "cifar100": "crop_flip", "svhn": "crop",
                               "imagefolder": "crop_flip"}.get(name, "none")
    assert meta["model"] == ("cnn" if "mnist" in name else "resnet32")


COLOURS = {"ant": (200, 200, 200), "bee": (0, 255, 0), "cat": (0, 0, 255)}


@pytest.fixture
def image_folder(tmp_path):
    """ant: 3 grey PNGs; bee: 12 green + notes.txt; cat: 6 blue 12×8 + a corrupt PNG; .DS_Store."""
    root = tmp_path / "pets"
    for name, n in (("ant", 3), ("bee", 12), ("cat", 6)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            if name == "ant":
                img = Image.new("L", (8, 8), 200)
            else:
                img = Image.new("RGB", (12, 8) if name == "cat" else (8, 8), COLOURS[name])
            img.save(root / name / f"{i:03d}.png")
    (root / "bee" / "notes.txt").write_text("not an image")
    (root / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "bee" / ".DS_Store").write_bytes(b"\0")
    return root


def test_imagefolder_natural_counts_warnings_and_pixels(image_folder, tmp_path):
    split = load_split("imagefolder", data_dir=tmp_path, path=str(image_folder))
    assert split.classes == ["ant", "bee", "cat"]
    assert split.x_train.shape[1:] == (3, 32, 32) and split.x_train.dtype == torch.uint8
    # readable 3/12/6; test per class = max(1, min(int(0.2·3), 50)) = 1
    assert torch.bincount(split.y_test).tolist() == [1, 1, 1]
    assert split.available_counts() == [2, 11, 5]
    assert split.warnings == ["skipped 1 non-image file: bee/notes.txt",
                              "skipped 1 unreadable image file: cat/broken.png",
                              "no validation split: the smallest class has 3 images (fewer than 10), "
                              "so nothing can be tuned on held-out images"]
    assert len(split.y_val) == 0
    for k, name in enumerate(split.classes):
        pixels = split.x_train[split.y_train == k].permute(0, 2, 3, 1).reshape(-1, 3)
        assert (pixels == torch.tensor(COLOURS[name], dtype=torch.uint8)).all()
    # mean over 18 pool images: (2·200 + 0·11 + 0·5)/18 for red, (2·200 + 255·11)/18 / 255 for green
    assert split.mean[0] == pytest.approx(400 / 18 / 255) and split.mean[1] == pytest.approx((400 + 2805) / 18 / 255)

    assert make_longtail(split, "none", 5, seed=0).counts == [2, 11, 5]
    # unequal source: exp over classes by size, n_max = 11: [11, int(11·0.2^0.5) = 4, int(2.2) = 2]
    lt = make_longtail(split, "exp", 5, seed=3)
    assert lt.counts == [2, 11, 4]
    assert torch.equal(lt.train_idx, make_longtail(load_split("imagefolder", tmp_path, path=str(image_folder)),
                                                   "exp", 5, seed=3).train_idx)


def test_imagefolder_errors(tmp_path):
    with pytest.raises(DataMissingError, match="does not exist"):
        load_split("imagefolder", tmp_path, path=str(tmp_path / "nope"))
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(ConfigError, match="not a folder"):
        load_split("imagefolder", tmp_path, path=str(tmp_path / "file.png"))
    root = tmp_path / "one"
    (root / "only").mkdir(parents=True)
    with pytest.raises(LTError, match="at least 2 class sub-folders"):
        load_split("imagefolder", tmp_path, path=str(root))
    (root / "other").mkdir()
    for name, n in (("only", 3), ("other", 1)):
        for i in range(n):
            Image.new("RGB", (4, 4)).save(root / name / f"{i}.png")
    with pytest.raises(LTError, match=r"other \(1\).*fewer than 2 readable images"):
        load_split("imagefolder", tmp_path, path=str(root))


def test_trainer_runs_on_an_image_folder(image_folder, tmp_path):
    config = Config(dataset="imagefolder", data_path=str(image_folder), profile="none", model="cnn",
                    epochs=1, batch_size=8, device="cpu")
    result = train(config, data_dir=tmp_path)
    assert result.status == "done" and result.class_counts == [2, 11, 5]
    assert len(result.per_class_acc) == 3


def test_imagefolder_holds_out_a_validation_split_beside_the_test_set(tmp_path):
    """Smallest class 20: test min(0.2·20, 50) = 4 per class, then validation min(0.1·20, 25) = 2
    per class from the rest; every image (its own grey level) lands in exactly one part."""
    root = tmp_path / "shades"
    for k, n in enumerate((20, 30)):
        (root / f"c{k}").mkdir(parents=True)
        for i in range(n):
            Image.new("L", (4, 4), 100 * k + i).save(root / f"c{k}" / f"{i:02d}.png")
    split = load_split("imagefolder", tmp_path, path=str(root))
    assert torch.bincount(split.y_test).tolist() == [4, 4] and torch.bincount(split.y_val).tolist() == [2, 2]
    assert split.available_counts() == [14, 24] and split.warnings == []
    levels = [set(part[:, 0, 0, 0].tolist()) for part in (split.x_train, split.x_val, split.x_test)]
    assert sum(map(len, levels)) == 50 and len(set.union(*levels)) == 50


def write_split_folder(root, classes, train_counts, test_per_class, fmt="png"):
    """root/train/<class>/ and root/test/<class>/ of flat images whose red level is the class index
    (test images have green 255, train images green 0: the split each image came from shows)."""
    for split, counts in (("train", train_counts), ("test", [test_per_class] * len(classes))):
        for k, (name, n) in enumerate(zip(classes, counts)):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.new("RGB", (8, 8), (20 * k, 255 if split == "test" else 0, 0)).save(
                    root / split / name / f"{i:04d}.{fmt}")
    return root


def test_imagefolder_with_train_and_test_uses_the_given_test_split(tmp_path):
    """test/ is the whole test set; the validation split (10% of the smallest train class, here 2
    a class) is held out of train/, never of the long-tailed pool, and never from test/."""
    root = write_split_folder(tmp_path / "cifar", ["cat", "dog", "emu"], [30, 20, 25], 4)
    split = load_split("imagefolder", tmp_path, path=str(root))
    assert split.classes == ["cat", "dog", "emu"]
    assert torch.bincount(split.y_test).tolist() == [4, 4, 4]
    assert (split.x_test[:, 1] == 255).all()                           # every test image from test/
    assert torch.bincount(split.y_val).tolist() == [2, 2, 2] and (split.x_val[:, 1] == 0).all()
    assert split.available_counts() == [28, 18, 23] and (split.x_train[:, 1] == 0).all()
    assert torch.equal(split.x_train[:, 0, 0, 0].long(), 20 * split.y_train)  # labels follow the folders
    lt = make_longtail(split, "exp", 10, seed=0)
    assert lt.counts[0] == 28 and set(lt.train_idx.tolist()) <= set(range(len(split.y_train)))


def test_imagefolder_train_and_test_must_hold_the_same_classes(tmp_path):
    root = write_split_folder(tmp_path / "odd", ["cat", "dog"], [5, 5], 2)
    (root / "test" / "dog").rename(root / "test" / "emu")
    with pytest.raises(DataMissingError, match="only in train: dog; only in test: emu"):
        load_split("imagefolder", tmp_path, path=str(root))


def test_trainer_scores_on_the_given_test_folder(tmp_path):
    root = write_split_folder(tmp_path / "pets", ["cat", "dog", "emu"], [30, 20, 25], 5, fmt="jpg")
    result = train(Config(dataset="imagefolder", data_path=str(root), profile="exp", ratio=5, model="cnn",
                          epochs=1, batch_size=16, device="cpu"), data_dir=tmp_path)
    assert result.status == "done" and sorted(result.class_counts) == [5, 12, 28]   # exp, ρ = 5, n_max 28
    confusion = result.metrics["confusion_matrix"]
    assert [sum(row) for row in confusion] == [5, 5, 5]                 # scored on test/: 5 a class
