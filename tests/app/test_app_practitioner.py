"""The practitioner's walk in a real browser (issue 22 items 7 and 8): their own image folder on the
Data page, then "Which fix helps on my data?" and its answer, then the runs on Compare.

Skipped with a visible reason when no chromium is installed, unless LTLAB_REQUIRE_BROWSER=1."""
import pytest
import re

import browser
import numpy as np

pytestmark = pytest.mark.slow  # a streamlit server and chromium

COUNTS = {"ant": 33, "bee": 12, "cat": 6, "dog": 5}   # one image per class held out: real ratio 32 / 4 = 8



def image_folder(root):
    """One sub-folder per class of small PNGs, each class its own colour (plus noise)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, (name, n) in enumerate(COUNTS.items()):
        (root / name).mkdir(parents=True)
        colour = np.array([(80 * k) % 256, 255 - 60 * k, 40 * k], np.int16)
        for i in range(n):
            pixels = np.clip(colour + rng.integers(-30, 30, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03}.png")
    return root


def alerts(page, kind: str) -> list[str]:
    """Texts of the main area's alerts of one kind (error, warning, info)."""
    return [a.inner_text() for a in page.locator(f'[data-testid="stMain"] [data-testid="stAlertContent{kind}"]').all()]


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (sidebar or main area)."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    browser.settle(page)


def test_a_practitioner_chooses_a_folder_and_asks_which_fix_helps(chromium, tmp_path):
    folder = image_folder(tmp_path / "photos")
    data = tmp_path / "data"
    data.mkdir()
    with browser.serve(data) as url, browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/?epochs=2&model=cnn")               # a small model, few epochs: 15 short runs
        browser.settle(page)
        choose(page, "Data set", "imagefolder")
        # item 7: no red error before anything is typed; the folder's own distribution by default
        assert alerts(page, "Error") == [] and page.locator('[data-testid="stException"]').count() == 0
        assert "Type the path of your image folder" in " ".join(alerts(page, "Info"))
        assert page.get_by_label("Imbalance profile", exact=True).input_value().startswith("none:")
        path = page.get_by_label("Image folder (one sub-folder per class)")
        path.fill(str(folder))
        path.press("Enter")
        browser.settle(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert alerts(page, "Error") == [] and "asked, but this data gives" not in page.content()
        assert re.search(r"Actual ratio ρ\s*8\.0", main), main
        assert "profile=none" not in page.url and "dataset=imagefolder" in page.url

        # item 8: one button, 15 runs, an answer with intervals on Train, a link to Compare
        page.get_by_role("button", name="Which fix helps on my data?").click()
        page.wait_for_url("**/train**", timeout=60_000)
        answer = page.locator(".st-key-whichfix_answer")
        answer.wait_for(state="visible", timeout=60_000)
        page.locator(".st-key-whichfix_gains").wait_for(state="visible", timeout=600_000)
        browser.settle(page)
        text = answer.inner_text()
        assert "95%" in text and "Tail: dog (4)" in text and "tested on 1 image" in text, text
        assert re.search(r"(raises|lowers) balanced accuracy by [+-]\d+ ± \d+ points|No fix can be told apart "
                         r"from plain ce", text), text
        for method in ("cbs", "ldam_drw", "balanced_softmax", "crt"):
            assert method in text

        page.get_by_role("button", name="Open these runs on Compare").click()
        page.wait_for_url("**/compare**", timeout=60_000)
        browser.settle(page)
        picker = page.locator('[data-testid="stMultiSelect"]').first.inner_text()
        assert set(re.findall(r"ρ[\d.]+(?: \(own\))?", picker)) == {"ρ8 (own)"}, picker   # not the asked ρ
        assert page.locator('[data-testid="stException"]').count() == 0
