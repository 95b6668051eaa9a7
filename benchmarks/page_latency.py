"""Page latency in a real browser: how long a page switch and a rerun take with 10 runs selected.

Trains 10 digits runs into a fresh store (as the Train page would: NC history and feature
snapshots recorded; or reuses the finished digits runs of `--store DIR` from an earlier call), starts `streamlit run
app/main.py` from the repository root (so `.streamlit/config.toml` applies, as with `make run`)
and drives Debian's chromium with Playwright (tests/app/browser.py). With the 10 runs in the link,
it clicks through Data → Train → Compare → Geometry → Learn in the sidebar several times, and
times each switch from the click until the script run has finished AND the page's main chart (or
heading) is on screen. The first visit of each page is reported apart from the warm ones (median
and worst). Reruns: a ratio change on Data, a Compare tab switch, a Geometry run switch.

    python benchmarks/page_latency.py [--rounds 4] [--store DIR] [--json out.json]

Target (issue 14, P5): every switch and rerun ≤ 300 ms warm on the 2-core development machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "app")]

import browser  # noqa: E402  (tests/app/browser.py: serve, chromium, settle)

METHODS = ("ce", "balanced_softmax", "cbs", "ldam_drw", "la_loss", "focal", "cb_ce", "sqrt", "cosine", "ros")
PAGES = {  # nav label → what shows that the page is drawn
    "Data": ".st-key-histogram .js-plotly-plot",
    "Train": ".st-key-monitor_curves .js-plotly-plot",
    "Compare": ".st-key-per_class .js-plotly-plot",
    "Geometry": ".st-key-features .js-plotly-plot",
    "Learn": "h2",
}
WATCH = """() => {
  window.__runs = [];
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__runs.push([performance.now(), app.getAttribute('data-test-script-state')]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def train_store(folder: Path, epochs: int, wanted: int = 10) -> list[str]:
    """`wanted` finished digits runs (ρ 100, one per method) recorded like the Train page's, in
    `folder`: the ones already there (any code version, so a store survives code edits) topped up
    by training the methods still missing."""
    import os

    os.environ["LTLAB_DATA"] = str(folder)
    from app.state import geometry_schedule
    from ltcore import Config
    from ltcore.runs import RunStore
    from ltcore.runs.execute import execute

    store = RunStore()
    done = [r for r in store.list_runs(status="done", dataset="digits")]
    ids = [r["run_id"] for r in done][:wanted]
    have = {r["method"] for r in done}
    for method in [m for m in METHODS if m not in have][:max(wanted - len(ids), 0)]:
        config = Config(dataset="digits", ratio=100, method=method, epochs=epochs, **geometry_schedule(epochs))
        state, run_id = store.claim(config, os.getpid())
        if state == "queued":
            t0 = time.perf_counter()
            store.mark_running(run_id, os.getpid())
            execute(store, run_id)
            print(f"trained {method} in {time.perf_counter() - t0:.1f} s", flush=True)
        ids.append(run_id)
    return ids


def timed(page, action, ready: str, timeout: float = 60) -> float:
    """Seconds from `action()` until a script run started after it has finished and `ready` is visible."""
    start = page.evaluate("performance.now()")
    action()
    page.wait_for_function("""([t0]) => {
        const after = (window.__runs || []).filter(r => r[0] >= t0);
        return after.some(r => r[1] === 'running') && after.length && after[after.length - 1][1] === 'notRunning';
    }""", arg=[start], timeout=timeout * 1000)
    page.locator(ready).first.wait_for(state="visible", timeout=timeout * 1000)
    end = page.evaluate("performance.now()")
    return (end - start) / 1000


def nav(page, label: str):
    return lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=label).first.click()


def measure(url: str, ids: list[str], rounds: int, chromium: str, scratch: Path) -> dict:
    out = {"switch": {p: [] for p in PAGES}, "rerun": {}}
    with browser.browser(chromium, scratch) as page:
        page.goto(f"{url}/?runs={','.join(ids)}")
        browser.settle(page, 120)
        page.evaluate(WATCH)
        for _ in range(rounds):
            for label, ready in [*list(PAGES.items())[1:], ("Data", PAGES["Data"])]:
                out["switch"][label].append(timed(page, nav(page, label), ready))
        timed(page, nav(page, "Data"), PAGES["Data"]) if page.url.split("?")[0].rstrip("/") != url else None
        ratio = page.locator('[data-testid="stSidebar"] input[type="number"]').first
        out["rerun"]["Data: ratio change"] = []
        for value in ("50", "100") * rounds:
            out["rerun"]["Data: ratio change"].append(
                timed(page, lambda v=value: (ratio.fill(v), ratio.press("Enter")), PAGES["Data"]))
        timed(page, nav(page, "Compare"), PAGES["Compare"])
        out["rerun"]["Compare: tab switch"] = []
        for tab, ready in (("Table", '[data-testid="stDataFrame"]'), ("Accuracy", PAGES["Compare"])) * rounds:
            out["rerun"]["Compare: tab switch"].append(
                timed(page, lambda t=tab: page.get_by_role("tab", name=t).click(), ready))
        timed(page, nav(page, "Geometry"), PAGES["Geometry"])
        box = page.locator(".st-key-geometry_run")
        out["rerun"]["Geometry: another run"] = []
        for option in (1, 0) * rounds:
            def pick(o=option):
                box.click()
                page.get_by_role("option").nth(o).click()
            out["rerun"]["Geometry: another run"].append(timed(page, pick, PAGES["Geometry"]))
    return out


def summary(times: list[float]) -> dict:
    warm = times[1:] or times
    return {"first": times[0], "warm_median": statistics.median(warm), "warm_max": max(warm), "n_warm": len(warm)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="visits of every page (the first is the cold one)")
    parser.add_argument("--store", type=Path, help="data folder to reuse (trained into when empty)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the raw times here")
    args = parser.parse_args(argv)
    chromium = browser.find_chromium()
    if chromium is None:
        raise SystemExit("no chromium found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp) / "data"
        folder.mkdir(parents=True, exist_ok=True)
        ids = train_store(folder, args.epochs)
        with browser.serve(folder) as url:
            raw = measure(url, ids, args.rounds, chromium, Path(tmp))
    report = {"switch": {p: summary(t) for p, t in raw["switch"].items()},
              "rerun": {k: summary(t) for k, t in raw["rerun"].items()}}
    print(f"{'with 10 digits runs selected':34} {'first':>7} {'warm p50':>9} {'warm max':>9}")
    for kind in ("switch", "rerun"):
        for name, s in report[kind].items():
            what = f"switch to {name}" if kind == "switch" else name
            print(f"{what:34} {1000 * s['first']:5.0f} ms {1000 * s['warm_median']:6.0f} ms {1000 * s['warm_max']:6.0f} ms")
    if args.json:
        args.json.write_text(json.dumps({"raw": raw, "summary": report}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
