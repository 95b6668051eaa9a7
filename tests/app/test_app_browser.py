"""The real app in a real browser: `streamlit run app/main.py` driven by chromium via Playwright.

Skipped with a visible reason when no chromium is installed, unless LTLAB_REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure."""

import pytest

import browser

pytestmark = pytest.mark.slow  # a streamlit server and chromium



def test_lesson_one_trains_in_the_browser_and_draws_the_per_class_chart(chromium, tmp_path):
    shot = tmp_path / "lesson1.png"
    with browser.serve(tmp_path) as url, browser.browser(chromium, tmp_path) as page:
        seen = browser.run_lesson_one(page, url, shot, timeout=180)
        assert page.locator('[data-testid="stException"]').count() == 0
        first = page.locator(".st-key-lesson1_per_class").inner_text()
        page.get_by_role("button", name="Next").click()
        page.wait_for_url("**lesson=2**", timeout=30_000)     # the view is mirrored in the link
        browser.settle(page)
        assert page.get_by_role("heading", name="2. Re-sampling: show the tail more often").is_visible()
    assert seen["bars"] == 10                          # one bar per digit class
    assert "Per-class accuracy" in first
    assert shot.stat().st_size > 10_000


def test_sweep_page_draws_a_stored_grid_from_its_link(chromium, tmp_path, monkeypatch):
    """A grid in the URL → the Sweep page counts its runs, finds them all in the store (Run has
    nothing to do) and draws accuracy against ρ and the gain over ce from the stored numbers."""
    from apphelpers import train_into
    from ltcore import Config
    from ltcore.runs import RunStore
    from ltcore.sweep import SweepSpec

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("LTLAB_DATA", str(data))
    store = RunStore()
    spec = SweepSpec(Config(dataset="gaussians", epochs=1), ("ce", "balanced_softmax"), (10, 50), (0,))
    for config in spec.configs():
        train_into(store, config)
    query = "dataset=gaussians&epochs=1&sw_methods=ce,balanced_softmax&sw_ratios=10,50&sw_seeds=1"
    with browser.serve(data) as url, browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/sweep?{query}")
        browser.chart(page, "sweep_balanced", 120)
        browser.chart(page, "sweep_gain", 60)
        browser.settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "4 runs" in body and "4 already in the store" in body
        assert page.get_by_role("button", name="Run 0 runs").is_disabled()
        assert page.locator(".st-key-sweep_balanced .js-plotly-plot .scatterlayer .trace").count() >= 4
        assert "sw_ratios=10%2C50" in page.url or "sw_ratios=10,50" in page.url


def test_switching_every_page_while_runs_train_keeps_the_session_and_the_url(chromium, tmp_path):
    """Issue 14, bug 1: leaving Train while runs were queued or running broke the session."""
    with browser.serve(tmp_path) as url, browser.browser(chromium, tmp_path) as page:
        seen = browser.walk_pages_while_training(page, url, timeout=180)
        page.reload()
        browser.settle(page)
        after_reload = page.url
    for step in seen:
        assert step["exceptions"] == 0 and step["errors"] == [], step
        assert "dataset=gaussians" in step["url"] and "runs=" in step["url"], step
    assert "runs=" in after_reload and "epochs=1000" in after_reload
