"""Page latency in a real browser: how long a page switch and a rerun take with 10 runs selected.

Trains 10 digits runs into a fresh store (as the Train page would: NC history and feature
snapshots recorded; or reuses the finished digits runs of `--store DIR` from an earlier call), starts `streamlit run
app/main.py` from the repository root (so `.streamlit/config.toml` applies, as with `make run`)
and drives Debian's chromium with Playwright (tests/app/browser.py). With the 10 runs in the link,
it clicks through Data → Train → Compare → Geometry → Learn in the sidebar several times, and
times each switch from the click until the script run has finished AND the page's main chart (or
heading) is on screen. The first visit of each page is reported apart from the warm ones (median
and worst). Reruns: a ratio change and the log toggle on Data, a Compare tab switch, Geometry's
2-D / 3-D switch.

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
  new MutationObserver(records => { for (const r of records) window.__runs.push(
      [performance.now(), r.oldValue, app.getAttribute('data-test-script-state')]); })
    .observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""
"""Every change of the app's script state as [time, state before, state now] (records arrive in
batches, so the state before is what shows that a run started and ended)."""


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
        const app = document.querySelector('[data-testid="stApp"]');
        return after.some(r => r[1] === 'running') && app.getAttribute('data-test-script-state') === 'notRunning';
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
                try:
                    out["switch"][label].append(timed(page, nav(page, label), ready))
                except Exception as exc:  # reported, and the next switch goes on
                    states = page.evaluate("(window.__runs || []).slice(-4)")
                    print(f"switch to {label}: {type(exc).__name__}; last states {states}", flush=True)
                    browser.settle(page, 120)
        ratio = page.get_by_label("Imbalance ratio ρ")
        toggle = page.get_by_text("Log scale", exact=True)
        reruns = {
            "Data: ratio change": [(lambda v=v: (ratio.fill(v), ratio.press("Enter")), PAGES["Data"])
                                   for v in ("100", "50") * rounds],  # the view starts at ρ 50
            "Data: log toggle": [(toggle.click, PAGES["Data"])] * (2 * rounds),
            "Compare: tab switch": [(lambda t=t: page.get_by_role("tab", name=t).click(), ready)
                                    for t, ready in (("Table", '[data-testid="stDataFrame"]'),
                                                     ("Accuracy", PAGES["Compare"])) * rounds],
            "Geometry: 2-D / 3-D": [(lambda d=d: page.get_by_text(d, exact=True).click(), PAGES["Geometry"])
                                    for d in ("3-D", "2-D") * rounds],
        }
        for name, actions in reruns.items():
            where = name.split(":")[0]
            try:
                timed(page, nav(page, where), PAGES[where], timeout=20)
            except Exception:  # already there: a click on the open page's link need not rerun
                pass
            out["rerun"][name] = []
            for action, ready in actions:
                try:
                    out["rerun"][name].append(timed(page, action, ready))
                except Exception as exc:  # one interaction that did not work costs its row, not the run
                    print(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
                    break
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
    report = {"switch": {p: summary(t) for p, t in raw["switch"].items() if t},
              "rerun": {k: summary(t) for k, t in raw["rerun"].items() if t}}
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
