"""Issue 25 items 4 and 9: the image loader opens only regular files (a named pipe named `x.png`
hung `train` and the Data page), decodes 16-bit grey PNGs to their real brightness with a
warning, and the CLI says which images it skipped or converted."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from hostilehelpers import cli

TRAIN = ("--dataset", "imagefolder", "--epochs", "1", "--batch-size", "64", "--quiet", "--no-store",
         "--profile", "none")


def folder_of(root: Path, counts: dict) -> Path:
    from PIL import Image

    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((8, 8, 3), 5 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


def load(folder: Path, timeout: float = 60):
    """load_split of the folder in a thread: (split or exception, finished in time)."""
    from ltcore.data import load_split

    out = {}

    def work():
        try:
            out["split"] = load_split("imagefolder", None, 0, path=str(folder))
        except Exception as exc:  # noqa: BLE001 - handed to the test
            out["split"] = exc
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    return out.get("split"), not worker.is_alive()


def test_a_named_pipe_among_the_images_is_skipped_not_opened(tmp_path):
    """item 4: `mkfifo imgs/cat/pipe.png` blocked the loader forever."""
    folder = folder_of(tmp_path / "imgs", {"cat": 6, "dog": 6})
    pipe = folder / "cat" / "pipe.png"
    os.mkfifo(pipe)
    try:
        split, finished = load(folder)
    finally:
        try:  # let a reader blocked on the pipe (the old loader) see its end
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert finished, "the loader blocked on a named pipe"
    assert len(split.y_train) + len(split.y_test) + len(split.y_val) == 12
    assert any("cat/pipe.png" in w and "not regular files" in w for w in split.warnings), split.warnings


def test_a_pipe_swapped_in_after_the_scan_is_not_opened(tmp_path):
    from ltcore.data.imagefolder import decode_image

    os.mkfifo(tmp_path / "late.png")
    result, done = {}, threading.Event()
    threading.Thread(target=lambda: (result.update(out=decode_image(str(tmp_path / "late.png"), 8)), done.set()),
                     daemon=True).start()
    assert done.wait(10), "decode_image opened a named pipe and blocked"
    assert result["out"] == (None, "")


def test_16_bit_grey_pngs_keep_their_brightness_and_are_named_in_a_warning(tmp_path):
    """item 9: 16-bit grey PNGs decoded to near-white in dark and bright folders alike."""
    from PIL import Image

    for name, level in (("dark", 2000), ("bright", 60000)):
        (tmp_path / name).mkdir()
        for i in range(6):
            Image.fromarray(np.full((8, 8), level + i, np.uint16)).save(tmp_path / name / f"{i}.png")
    split, finished = load(tmp_path)
    assert finished
    x = np.concatenate([split.x_train.numpy(), split.x_test.numpy()])
    y = np.concatenate([split.y_train.numpy(), split.y_test.numpy()])
    dark, bright = (x[y == split.classes.index(c)].mean() for c in ("dark", "bright"))
    assert abs(dark - 2000 / 257) < 2 and abs(bright - 60000 / 257) < 2, (dark, bright)
    assert any("16-bit grey reduced to 8 bits" in w and "12 images" in w for w in split.warnings), split.warnings


def test_the_cli_says_which_images_it_skipped_and_converted(tmp_path, capsys):
    """item 9: 0-byte, garbage and truncated images were counted but `train` never said so."""
    from PIL import Image

    folder = folder_of(tmp_path / "imgs", {"cat": 12, "dog": 12})
    (folder / "cat" / "empty.png").write_bytes(b"")
    (folder / "dog" / "garbage.jpg").write_bytes(os.urandom(300))
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(folder / "dog" / "alpha.png")
    code, out, err = cli(capsys, "train", *TRAIN, "--data-path", folder)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert any("skipped 2 unreadable image files" in w and "cat/empty.png" in w and "dog/garbage.jpg" in w
               for w in warnings), err
    assert any("transparency dropped" in w and "dog/alpha.png" in w for w in warnings), err
