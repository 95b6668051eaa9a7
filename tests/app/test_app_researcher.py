"""A researcher's walks through the real app in a real browser (issue 22, items 1, 2 and 4):
the Train form survives page switches while runs train, deleting from the run table names the
runs, clears the selection and can be undone, and a data set without few-shot classes says so
instead of drawing blanks. Tiny gaussians runs; each walk starts its own server and store.

Skipped with a visible reason when no chromium is installed, unless LTLAB_REQUIRE_BROWSER=1."""

import pytest

import browser
from app.logic.tables import NO_FEW

pytestmark = pytest.mark.slow  # researcher walks in a real browser

MAIN = '[data-testid="stMain"]'


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A store with two finished one-epoch `ce` runs on gaussians at ρ = 10 (no class below 20
    training samples) and ρ = 100 (two such classes), and one `balanced_softmax` at ρ = 10: the
    grid `ce × {10, 100}` of the Sweep page, and runs to compare and delete."""
    from apphelpers import train_into
    from ltcore import Config
    from ltcore.runs import RunStore
    from ltcore.sweep import SweepSpec

    data = tmp_path_factory.mktemp("researcher")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store = RunStore()
        grid = SweepSpec(Config(dataset="gaussians", epochs=1), ("ce",), (10, 100), (0,))
        ids = {c.ratio: train_into(store, c) for c in grid.configs()}
        ids["bs"] = train_into(store, Config(dataset="gaussians", ratio=10, method="balanced_softmax", epochs=1))
    return data, store, ids


@pytest.fixture(scope="module")
def served(finished, tmp_path_factory):
    """The app over the `finished` store (one server for the walks that read it)."""
    data, store, ids = finished
    with browser.serve(data, log_name="walks.log") as url:
        yield url, store, ids


def nav(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.wait_for_timeout(400)
    browser.settle(page)


def main_text(page) -> str:
    return page.locator(MAIN).inner_text()


def test_train_form_url_and_live_view_come_back_after_switching_pages_while_runs_train(chromium, tmp_path):
    """Scenario 1: Data → Train → add two methods, 3 seeds, 300 epochs → Train 9 runs → let the
    live view poll → Data → Compare → Train: the form, the URL and the nine live rows are as left."""
    with browser.serve(tmp_path) as url, browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/?dataset=gaussians&batch_size=16")
        browser.settle(page)
        nav(page, "Train")
        methods = page.locator(".st-key-methods input")
        for method in ("balanced_softmax", "ldam_drw"):
            methods.click()
            methods.fill(method)
            methods.press("Enter")
            browser.settle(page)
        page.keyboard.press("Escape")
        for name, value in (("Seeds", "3"), ("Epochs", "300")):
            field = page.get_by_role("spinbutton", name=name)
            field.fill(value)
            field.press("Enter")
            browser.settle(page)
        page.get_by_role("button", name="Train 9 runs").click()
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')]"
                               ".some(e => e.innerText.includes('epoch'))", timeout=120_000)
        page.wait_for_timeout(4500)                     # the live view polls (a fragment run) meanwhile
        for name in ("Data", "Compare", "Train"):
            nav(page, name)
        chips = page.locator(".st-key-methods").inner_text()
        seeds = page.get_by_role("spinbutton", name="Seeds").input_value()
        epochs = page.get_by_role("spinbutton", name="Epochs").input_value()
        button = page.get_by_role("button", name="Train 9 runs").count()
        rows = page.locator('[data-testid="stProgress"]').count()
        link = page.url
        page.get_by_role("button", name="Stop all").click()
        page.wait_for_timeout(1500)
    assert "balanced_softmax" in chips and "ldam_drw" in chips, chips
    assert (seeds, epochs, button) == ("3", "300", 1)
    assert "methods=ce%2Cbalanced_softmax%2Cldam_drw" in link and "seeds=3" in link and "epochs=300" in link, link
    assert "runs=" in link and rows == 9


def select_row(page, index: int) -> None:
    """Tick a row of the run table at its left edge (the grid is a canvas: click by position)."""
    grid = manager(page).locator("[data-testid='stDataFrame']").first
    grid.wait_for(state="visible", timeout=30_000)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 * (index + 1) + 17)
    page.wait_for_timeout(300)
    browser.settle(page)


def manager(page):
    """The "Manage runs" expander (the run table, its actions and the bin)."""
    return page.locator('[data-testid="stExpander"]').filter(has_text="Manage runs").first


def table_caption(page) -> str:
    return manager(page).inner_text()


def test_deleting_a_run_names_it_clears_the_selection_and_can_be_undone(chromium, tmp_path, served):
    """Scenario 2: select a row → Delete 1 run… → the question names the run → Yes, delete →
    nothing is selected any more (the same row position is another run now) → Undo brings it back."""
    url, store, ids = served
    everything = ",".join(ids.values())
    with browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/compare?runs={everything}")
        browser.settle(page)
        page.get_by_text("Manage runs: sort, filter", exact=False).first.click()
        browser.settle(page)
        assert "3 of 3 runs" in table_caption(page)
        select_row(page, 0)
        assert "1 selected" in table_caption(page)
        page.get_by_role("button", name="Delete 1 run…").click()
        browser.settle(page)
        question = page.locator('[data-testid="stAlert"]').filter(has_text="Delete").first.inner_text()
        page.get_by_role("button", name="Yes, delete").click()
        browser.settle(page)
        after = table_caption(page)
        delete_buttons = page.get_by_role("button", name="Delete 1 run…").count()
        bin_note = page.locator('[data-testid="stAlert"]').filter(has_text="Deleted 1 run")
        binned = bin_note.inner_text() if bin_note.count() else ""
        if page.get_by_role("button", name="Undo").count():
            page.get_by_role("button", name="Undo").click()
            browser.settle(page)
        restored = table_caption(page)
    newest = store.list_runs()[0]
    assert "2 of 2 runs" in after and "0 selected" in after and delete_buttons == 0, after
    assert f"{newest['method']} · gaussians · ρ{newest['ratio']:g} · seed 0 · {newest['run_id'][:12]}" in question
    assert newest["run_id"][:12] in binned, binned
    assert "3 of 3 runs" in restored and store.get(newest["run_id"]) is not None


def test_no_few_shot_class_is_said_in_words_on_train_compare_and_sweep(chromium, tmp_path, served):
    """Scenario 4: at ρ = 10 no gaussians class has fewer than 20 training samples. The live view's
    few-shot panel, Compare's few-shot slot and its table say so; Sweep leaves ρ = 10 out of the
    few-shot chart, names it, and draws ρ = 100's lone value as a point."""
    url, store, ids = served
    with browser.browser(chromium, tmp_path) as page:
        page.goto(f"{url}/train?dataset=gaussians&runs={ids[10]}")
        live = browser.chart(page, "monitor_curves", 90).inner_text()
        page.goto(f"{url}/compare?runs={ids[10]},{ids['bs']}")
        shots = browser.chart(page, "shots", 90).inner_text()
        page.get_by_role("tab", name="Table").click()
        browser.settle(page)
        table = main_text(page)                         # the grid is a canvas: its caption says it in words
        page.goto(f"{url}/sweep?dataset=gaussians&epochs=1&sw_methods=ce&sw_ratios=10,100&sw_seeds=1")
        few = browser.chart(page, "sweep_few", 90)
        browser.settle(page)
        sweep = few.inner_text()
        markers = page.locator(".st-key-sweep_few .scatterlayer .trace .point").count()
    assert NO_FEW in live
    assert NO_FEW in shots
    assert f"few_acc says “{NO_FEW}”" in table, table
    assert "no class has < 20 training samples at ρ = 10" in sweep and "one ρ only" in sweep
    assert markers == 1
