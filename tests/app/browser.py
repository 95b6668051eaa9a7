"""The dashboard in a real browser: start `streamlit run app/main.py` on a free loopback port and
drive Debian's chromium with Playwright. Used by test_browser.py and, standalone, to make the
screenshots of every page in docs/screenshots (shown in the README):

    .venv/bin/python tests/app/browser.py --screenshots docs/screenshots
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from ltcore.runs.procs import free_port  # noqa: E402  (this repository's ltcore, also when standalone)

ENTRY = ROOT / "app" / "main.py"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def find_chromium() -> str | None:
    """Path of a chromium/chrome binary ($LTLAB_CHROMIUM first), or None."""
    wanted = os.environ.get("LTLAB_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@contextlib.contextmanager
def serve(data_dir: Path, timeout: float = 90, root: Path = ROOT, log_name: str = "streamlit.log",
          launcher: list[str] | None = None, env: dict | None = None):
    """The app on http://127.0.0.1:<free port>, its run store in `data_dir`; yields the base URL.
    `root`: the checkout whose app/main.py runs (a benchmark's baseline); `launcher`: the command
    that stands for `streamlit` (default `python -m streamlit`); `env`: more environment variables."""
    port = free_port()
    env = dict(os.environ, LTLAB_DATA=str(data_dir), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **(env or {}))
    log = open(data_dir / log_name, "w")
    proc = subprocess.Popen([*(launcher or [sys.executable, "-m", "streamlit"]), "run",
                             str(Path(root) / "app" / "main.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {data_dir / log_name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def browser(executable: str, scratch: Path, viewport: tuple[int, int] = (1400, 900)):
    """A chromium page of `viewport` pixels (headless); the browser writes only under `scratch`."""
    from playwright.sync_api import sync_playwright

    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            chromium.close()


def settle(page, timeout: float = 60) -> None:
    """Wait until the script run has finished and the page has stopped changing."""
    page.wait_for_selector(IDLE, timeout=timeout * 1000)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=timeout * 1000)


def full_screenshot(page, path: Path, max_height: int = 8000) -> None:
    """Screenshot of the whole page: Streamlit scrolls inside its main section, so the viewport is
    made as tall as that section's content first."""
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll('*')]
        .filter(e => e.scrollHeight > e.clientHeight + 4 && getComputedStyle(e).overflowY !== 'visible')
        .map(e => e.scrollHeight), document.body.scrollHeight)""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, max_height))})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def chart(page, key: str, timeout: float):
    """Wait for the plotly chart with Streamlit key `key` to be drawn; returns its locator."""
    locator = page.locator(f".st-key-{key} .js-plotly-plot").first
    locator.wait_for(state="visible", timeout=timeout * 1000)
    return locator


def run_lesson_one(page, url: str, shot: Path | None = None, timeout: float = 120) -> dict:
    """Open lesson 1, press its button, wait for the per-class chart; returns what was seen."""
    t0 = time.monotonic()
    page.goto(f"{url}/learn?lesson=1")
    settle(page)
    t1 = time.monotonic()
    page.get_by_role("button", name="Run lesson 1").click()
    per_class = chart(page, "lesson1_per_class", timeout)
    settle(page)
    print(f"lesson 1: page {t1 - t0:.1f} s, run + chart {time.monotonic() - t1:.1f} s")
    bars = page.locator(".st-key-lesson1_per_class .js-plotly-plot .bars .point").count()
    if shot:
        full_screenshot(page, shot)
    return {"bars": bars, "text": per_class.inner_text(), "url": page.url}


PAGES = ("Data", "Compare", "Geometry", "Sweep", "Learn", "Train", "Data", "Train")


def walk_pages_while_training(page, url: str, timeout: float = 120) -> list[dict]:
    """Start two long runs on Train, then click through every page while they train (the Train
    page's progress fragment keeps polling meanwhile); returns what each page showed: its URL,
    exceptions and error messages."""
    query = "dataset=gaussians&epochs=1000&batch_size=16&seeds=2"
    page.goto(f"{url}/train?{query}")
    settle(page)
    page.get_by_role("button", name="Train 2 runs").click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')]"
                           ".some(e => e.innerText.includes('epoch'))", timeout=timeout * 1000)
    page.wait_for_timeout(2500)                  # at least one poll of the progress fragment
    seen = []
    for name in PAGES:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
        page.wait_for_timeout(800)
        settle(page)
        page.wait_for_timeout(2500)              # a poll tick may land after the switch
        seen.append({"page": name, "url": page.url,
                     "exceptions": page.locator('[data-testid="stException"]').count(),
                     "errors": [e.inner_text() for e in page.locator('[data-testid="stAlert"]').all()
                                if "error" in e.inner_text().lower()]})
    stop = page.get_by_role("button", name="Stop all")
    if stop.count():                             # none when both runs already ended on a fast machine
        stop.click()
    return seen


def wait_trained(page, timeout: float) -> None:
    """Wait until every progress bar of the Train page says the run is done (or loaded)."""
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')].every("
                           "e => e.innerText.includes('done') || e.innerText.includes('already trained'))",
                           timeout=timeout * 1000)
    settle(page)


def screenshots(out: Path, timeout: float = 600) -> list[Path]:
    """A new user's path through the app, one full-page PNG per view: Data → first experiment →
    the same two methods over 3 seeds on Train (one line and a band per method) → Compare (mean ±
    std error bars), its Curves tab and the run table → Geometry → Sweep (its default grid) → Learn."""
    out.mkdir(parents=True, exist_ok=True)
    executable = find_chromium()
    if executable is None:
        raise SystemExit("no chromium found: apt-get install -y chromium")
    shots = []

    def shot(name):
        shots.append(out / f"{name}.png")
        full_screenshot(page, shots[-1])

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as url, browser(executable, Path(tmp)) as page:
        page.goto(url)
        settle(page)
        shot("data")
        page.get_by_role("button", name="Run the first experiment").click()
        page.wait_for_url("**/train**", timeout=60_000)
        chart(page, "monitor_curves", timeout)
        wait_trained(page, timeout)
        seeds = page.get_by_role("spinbutton", name="Seeds")
        seeds.fill("3")
        seeds.press("Enter")
        settle(page)
        page.get_by_role("button", name="Train 6 runs").click()
        page.wait_for_timeout(1500)
        wait_trained(page, timeout)
        chart(page, "monitor_curves", timeout)
        shot("train")
        page.get_by_role("button", name="Open on Compare").click()
        chart(page, "per_class", timeout)
        settle(page)
        shot("compare")
        page.get_by_role("tab", name="Curves").click()
        chart(page, "class_epochs", timeout)
        settle(page)
        shot("compare_curves")
        page.get_by_text("Manage runs: sort, filter", exact=False).first.click()
        page.locator(".st-key-runs_table").first.wait_for(state="visible", timeout=timeout * 1000)
        settle(page)
        shot("runs")
        query = page.url.split("?", 1)[1] if "?" in page.url else ""
        page.goto(f"{url}/geometry?{query}")
        chart(page, "nc_history", timeout)
        settle(page)
        shot("geometry")
        page.get_by_role("tab", name="Feature scatter").click()
        chart(page, "features", timeout)
        settle(page)
        shot("geometry_scatter")
        page.goto(f"{url}/sweep?{query}")  # the Sweep page's default grid: ce, balanced_softmax × ρ 10, 50, 100
        settle(page)
        page.get_by_role("button", name=re.compile(r"^Run \d+ runs?$")).click()
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')]"
                               ".some(e => /(\\d+)\\/\\1 runs finished/.test(e.innerText))", timeout=timeout * 1000)
        chart(page, "sweep_gain", timeout)
        settle(page)
        shot("sweep")
        run_lesson_one(page, url, out / "learn.png", timeout)
        shots.append(out / "learn.png")
    return shots


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", type=Path, default=ROOT / "docs" / "screenshots",
                        help="folder for one PNG per page")
    args = parser.parse_args(argv)
    for path in screenshots(args.screenshots):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
