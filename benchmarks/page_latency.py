"""Page latency in a real browser: how long a page switch and a rerun take with 10 runs selected.

Trains 10 digits runs into a fresh store (as the Train page would: NC history and feature
snapshots recorded; or reuses the finished digits runs of `--store DIR` from an earlier call), starts `streamlit run
app/main.py` from the repository root (so `.streamlit/config.toml` applies, as with `make run`)
and drives Debian's chromium with Playwright (tests/app/browser.py). With the 10 runs in the link,
it clicks through Data → Train → Compare → Geometry → Learn in the sidebar several times, and
times each switch from the click until the script run has finished AND the page's main chart (or
heading) is on screen. The first visit of each page is reported apart from the warm ones (median
and worst). Reruns: a ratio change and the log toggle on Data, a Compare and a Geometry tab switch.

    python benchmarks/page_latency.py [--rounds 4] [--store DIR] [--baseline GIT_REF] [--json out.json]

With `--baseline REF` the app as it was at that commit is served beside this one (same store, same
browser) and measured round by round in turn, so both see the same load; the ratios are printed.

Target (issue 14, P5): every switch and rerun ≤ 300 ms warm on the 2-core development machine.
"""
from __future__ import annotations

import argparse
import contextlib
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
    "Geometry": ".st-key-nc_history .js-plotly-plot",
    "Learn": ".st-key-lesson",
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


def timed(page, action, ready: str, timeout: float = 60, script: list | None = None, strict: bool = True) -> float:
    """Seconds from `action()` until a script run started after it has finished and `ready` is
    visible; the seconds until the script run ended (server work and messages, before the browser
    draws) are appended to `script`. `strict=False` (page switches, whose `ready` exists only on
    the new page): a run so short that the page never showed "running" also counts."""
    start = page.evaluate("performance.now()")
    action()
    page.locator(ready).first.wait_for(state="visible", timeout=timeout * 1000)
    page.wait_for_function("""([t0, strict]) => {
        const after = (window.__runs || []).filter(r => r[0] >= t0);
        const app = document.querySelector('[data-testid="stApp"]');
        return (!strict || after.some(r => r[1] === 'running'))
            && app.getAttribute('data-test-script-state') === 'notRunning';
    }""", arg=[start, strict], timeout=timeout * 1000)
    end = page.evaluate("performance.now()")
    if script is not None:
        ended = page.evaluate("([t0]) => (window.__runs || []).filter(r => r[0] >= t0 && r[1] === 'running')"
                              ".map(r => r[0]).pop()", [start])
        script.append((ended - start) / 1000 if ended else (end - start) / 1000)
    return (end - start) / 1000


def nav(page, label: str):
    return lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=label).first.click()


def reruns(page, rounds: int) -> dict:
    """name → (page it happens on, [(action, ready selector)] in order)."""
    ratio = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInputField"]').first
    toggle = page.get_by_text("Log scale", exact=True)

    def tab(name):
        return lambda: page.get_by_role("tab", name=name).click()
    return {
        "Data: ratio change": ("Data", [(lambda v=v: (ratio.fill(v), ratio.press("Enter")), PAGES["Data"])
                                        for v in ("100", "50") * rounds]),  # the view starts at ρ 50
        "Data: log toggle": ("Data", [(toggle.click, PAGES["Data"])] * (2 * rounds)),
        "Compare: tab switch": ("Compare", [(tab(t), ready) for t, ready in (
            ("Table", '[data-testid="stDataFrame"]'), ("Accuracy", PAGES["Compare"])) * rounds]),
        "Geometry: tab switch": ("Geometry", [(tab(t), ready) for t, ready in (
            ("Feature scatter", ".st-key-features .js-plotly-plot"), ("Over training", PAGES["Geometry"])) * rounds]),
    }


def attempt(out: dict, name: str, page, action, ready: str, strict: bool = True) -> bool:
    """One timed interaction into out[name] ({"ready": [...], "script": [...]}); False (and a line
    saying why) when it did not work."""
    slot = out.setdefault(name, {"ready": [], "script": []})
    try:
        slot["ready"].append(timed(page, action, ready, script=slot["script"], strict=strict))
        return True
    except Exception as exc:  # reported; the benchmark goes on
        print(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
        browser.settle(page, 120)
        return False


def measure(urls: dict[str, str], ids: list[str], rounds: int, chromium: str, scratch: Path) -> dict:
    """Per app version (interleaved round by round, so both see the same machine load): the switch
    times of every page and the rerun times."""
    out = {version: {} for version in urls}
    with browser.browser(chromium, scratch) as first:
        pages = {version: first if i == 0 else first.context.browser.new_page() for i, version in enumerate(urls)}
        for version, page in pages.items():
            page.set_viewport_size({"width": 1400, "height": 900})
            page.goto(f"{urls[version]}/?runs={','.join(ids)}")
            browser.settle(page, 120)
            page.evaluate(WATCH)
        for _ in range(rounds):
            for version, page in pages.items():
                for label, ready in [*list(PAGES.items())[1:], ("Data", PAGES["Data"])]:
                    attempt(out[version], f"switch to {label}", page, nav(page, label), ready, strict=False)
        for version, page in pages.items():
            for name, (where, actions) in reruns(page, rounds).items():
                attempt({}, "go", page, nav(page, where), PAGES[where], strict=False)
                for action, ready in actions:
                    if not attempt(out[version], name, page, action, ready):
                        break
    return out


def summary(times: list[float]) -> dict:
    warm = times[1:] or times
    return {"first": times[0], "warm_median": statistics.median(warm), "warm_max": max(warm), "n_warm": len(warm)}


def baseline_checkout(ref: str, folder: Path) -> Path:
    """The app as it was at git `ref`, unpacked into `folder` (git archive: no worktree is added)."""
    import subprocess

    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="visits of every page (the first is the cold one)")
    parser.add_argument("--store", type=Path, help="data folder to reuse (trained into when empty)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--baseline", help="git ref of an earlier app to measure side by side (e.g. a commit)")
    parser.add_argument("--json", type=Path, help="write the raw times here")
    args = parser.parse_args(argv)
    chromium = browser.find_chromium()
    if chromium is None:
        raise SystemExit("no chromium found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = args.store or Path(tmp) / "data"
        folder.mkdir(parents=True, exist_ok=True)
        ids = train_store(folder, args.epochs)
        roots = {"this": ROOT}
        if args.baseline:
            roots = {f"baseline {args.baseline[:10]}": baseline_checkout(args.baseline, Path(tmp) / "baseline"), **roots}
        urls = {version: stack.enter_context(browser.serve(folder, root=root, log_name=f"streamlit-{i}.log"))
                for i, (version, root) in enumerate(roots.items())}
        raw = measure(urls, ids, args.rounds, chromium, Path(tmp))
    print(f"with {len(ids)} digits runs selected; ready = script done and the page's chart drawn "
          "(script = script run done); ms")
    for version, rows in raw.items():
        print(f"\n{version:36} {'first':>6} {'warm p50':>9} {'warm max':>9} {'script p50':>11}")
        for name, times in rows.items():
            if times["ready"]:
                s_ = summary(times["ready"])
                script = statistics.median(times["script"][1:] or times["script"])
                print(f"{name:36} {1000 * s_['first']:6.0f} {1000 * s_['warm_median']:9.0f} "
                      f"{1000 * s_['warm_max']:9.0f} {1000 * script:11.0f}")
    if len(raw) == 2:
        (base, b), (this, t) = raw.items()
        print(f"\nwarm p50 ratio {base} / {this}:")
        for name in t:
            if t[name]["ready"] and b.get(name, {}).get("ready"):
                ratio = summary(b[name]["ready"])["warm_median"] / summary(t[name]["ready"])["warm_median"]
                print(f"  {name:34} {ratio:5.2f}×")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
