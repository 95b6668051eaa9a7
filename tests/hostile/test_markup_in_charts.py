"""Issue 25 item 1: user text (a class folder's name, a run label, a tag) reaches a plotly figure
as text, never as markup — in the figure JSON every page sends and in a real browser."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
import browser  # noqa: E402  (tests/app/browser.py: the project's real-browser helpers)

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
EVIL = '<a href="https:evil.example">CLICK'


def markup_folder(root: Path) -> Path:
    """Two classes, one of them named like a link: 24 and 10 small PNGs."""
    from PIL import Image

    for name, n in ((EVIL, 10), ("plain cats", 24)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((8, 8, 3), 9 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_a_markup_string_is_escaped_in_data_and_app_markup_keeps_only_formatting():
    from app.logic.plaintext import plain_figure

    spec = plain_figure({
        "data": [{"x": np.array([EVIL, "b"], dtype=object), "name": "<b>x</b> & y",
                  "hovertemplate": "class %{x}<br><a href='https:e.x'>go</a><extra></extra>"}],
        "layout": {"title": {"text": "A<br><sup>rule</sup> <span style='font-size:90px'>big</span>"},
                   "annotations": [{"text": "<a href='https:e.x'>sub</a>"}],
                   "xaxis": {"ticktext": [EVIL], "categoryarray": [EVIL]}}})
    text = json.dumps(spec, default=list)
    assert "<a" not in text and "<span" not in text and "<b>x" not in text
    assert spec["data"][0]["x"][0] == "&lt;a href=\"https:evil.example\"&gt;CLICK"
    assert spec["data"][0]["name"] == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert spec["data"][0]["hovertemplate"].endswith("<br>&lt;a href='https:e.x'&gt;go&lt;/a&gt;<extra></extra>")
    assert spec["layout"]["title"]["text"].startswith("A<br><sup>rule</sup> &lt;span")


def test_every_chart_reaches_the_page_through_the_one_escape_point():
    """No page or app module calls st.plotly_chart itself: `app.ui.plot.chart` (which freezes,
    and so escapes) is the only way in."""
    root = Path(ENTRY).parents[1]
    callers = [p.relative_to(root).as_posix() for folder in ("app", "pages") for p in (root / folder).rglob("*.py")
               if "st.plotly_chart(" in p.read_text() and p.relative_to(root).as_posix() != "app/ui/plot.py"]
    assert callers == []


def test_data_page_sends_the_class_name_of_a_markup_folder_as_text(tmp_path):
    folder = markup_folder(tmp_path / "imgs")
    at = AppTest.from_file(ENTRY, default_timeout=90)
    at.query_params.update(dataset="imagefolder", data_path=str(folder), profile="none")
    at.run()
    assert not at.exception
    spec = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")])
    assert "<a " not in spec and "&lt;a href=\\\"https:evil.example\\\"&gt;CLICK" in spec


def test_compare_charts_show_a_markup_run_label_as_text(tmp_path, monkeypatch):
    """A run trained on that folder carries the class name (and its label) to Compare."""
    from app.charts import base as charts

    class Run:  # what per_class_accuracy reads of a result
        def __init__(self):
            self.per_class_acc, self.class_names, self.class_counts = [0.5, 0.25], [EVIL, "b"], [24, 10]
            self.config = type("C", (), {"ratio": 2.4})()
            self.metrics = {}

    from app.charts.cache import freeze
    spec = json.dumps(freeze(charts.per_class_accuracy([Run()], [f"{EVIL} · tagged"])).to_dict(), default=list)
    assert "<a " not in spec and "&lt;a href" in spec


@pytest.mark.slow
def test_markup_class_name_is_plain_text_in_the_browser(chromium, tmp_path):
    """The Data page of a folder with a class named `<a href="https:evil.example">CLICK`: the
    histogram's tick label reads exactly that, and no link element is drawn anywhere in the chart."""
    folder = markup_folder(tmp_path / "imgs")
    data = tmp_path / "data"
    data.mkdir()
    with browser.serve(data) as url, browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/?dataset=imagefolder&profile=none&data_path={folder}")
        plot = browser.chart(page, "histogram", 120)
        browser.settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        ticks = page.evaluate("() => [...document.querySelectorAll('.st-key-histogram .xtick text')]"
                              ".map(e => e.textContent)")
        links = plot.locator("a").count()
    assert EVIL in ticks
    assert links == 0
