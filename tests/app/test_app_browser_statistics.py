"""Issue 20 §2 and issue 22 item 6 in a real browser: a practitioner's folder of 100/30/10/5/2
images leaves one test image per class; Compare must say plainly that its comparisons cannot be
told apart from noise, show the test images behind every accuracy and mark each change against
the baseline whose 95 % interval contains 0."""

import pytest
import numpy as np
from PIL import Image

import browser

pytestmark = pytest.mark.slow  # a streamlit server and chromium

FOLDER_COUNTS = {"ant": 100, "bee": 30, "cat": 10, "dog": 5, "eel": 2}



def image_folder(root, counts: dict):
    """Class sub-folders of 8×8 PNGs: a class colour plus noise (learnable, not trivial)."""
    rng = np.random.default_rng(0)
    for k, (name, n) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True)
        base = np.array([40 * k + 20, 200 - 35 * k, 90 + 25 * k], dtype=float)
        for i in range(n):
            pixels = np.clip(base + rng.normal(0, 60, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def test_compare_on_a_one_image_per_class_test_set_says_it_is_noise(chromium, tmp_path, monkeypatch):
    from apphelpers import train_into
    from ltcore import Config
    from ltcore.runs import RunStore

    data = tmp_path / "data"
    folder = image_folder(data / "photos", FOLDER_COUNTS)
    monkeypatch.setenv("LTLAB_DATA", str(data))
    store = RunStore()
    ids = [train_into(store, Config(dataset="imagefolder", data_path=str(folder), profile="none", model="cnn",
                                    method=m, seed=s, epochs=2, batch_size=32, device="cpu"))
           for m in ("ce", "balanced_softmax") for s in (0, 1)]
    with browser.serve(data) as url, browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/compare?runs={','.join(ids)}")
        browser.chart(page, "change", 120)
        browser.settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        body = page.locator('[data-testid="stMain"]').inner_text()
        change = page.locator(".st-key-change").inner_text()
        per_class = page.locator(".st-key-per_class").inner_text()
        page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    assert "as few as 1 in a class" in body and "cannot be told apart from noise" in body
    assert "at least 20 test images" in body and "several seeds" in body       # what would make it meaningful
    assert "n=1" in per_class                                                  # test images under each class
    assert "not distinguishable at these seeds" in change                      # the mark on the chart
    assert "balanced_softmax" in body and "(paired t over seeds) — not distinguishable at these seeds" in body
