"""Page latency in a real browser: how long a page switch and a rerun take with 10 runs selected.

Trains 10 digits runs into a fresh store (as the Train page would: NC history and feature
snapshots recorded; or reuses the finished digits runs of `--store DIR` from an earlier call), starts `streamlit run
app/main.py` from the repository root (so `.streamlit/config.toml` applies, as with `make run`)
and drives Debian's chromium with Playwright (tests/app/browser.py). With the 10 runs in the link,
it clicks through Data → Train → Compare → Geometry → Learn in the sidebar several times, and
times each switch from the click until the server's script run has finished, the browser has
taken in its end, the page's main chart (or heading) is on screen and two animation frames have
passed ("end to end"). The first visit of each page is reported apart from the warm ones (median
and worst). Reruns: a ratio change and the log toggle on Data, a Compare and a Geometry tab switch.

"Server" is the time of the script runs themselves, measured inside the real server (wall clock,
and the CPU time of the script thread, which a loaded machine does not inflate): streamlit
is started through a wrapper (`TIMED_STREAMLIT`) that logs how long each script run took, which
is also how the benchmark knows that a rerun has happened (the browser may never show "running"
for a short one). The gap between the two is the browser: messages, React and plotly drawing.
"Browser CPU" is the CPU time of chromium's renderer main threads over the same interval, from a
DevTools trace (the thread time of its top-level tasks: what React, plotly, style and layout cost,
which a loaded machine does not inflate the way it inflates wall time; both app versions' tabs
are idle but for the one being timed).

    python benchmarks/page_latency.py [--rounds 4] [--store DIR] [--baseline GIT_REF] [--json out.json]

With `--baseline REF` the app as it was at that commit is served beside this one (same store, same
browser, same timing wrapper) and measured round by round in turn, so both see the same load; the
ratios are printed. The load average of the machine is printed before and after.

    python benchmarks/page_latency.py --training [--rounds 4] [--store DIR]

`--training` (issue 22 item 9) times the page switches of this app in four conditions, round by
round in turn so all see the same background load: idle (nothing training), one job slot busy with
a long digits run whose worker runs at the server's CPU priority (`LTLAB_WORKER_NICE=0`, how
workers ran before), one job slot busy as workers run now (default priority step, `worker.NICE`),
and one at the lowest priority (nice 19, to see whether a larger step buys more). The busy slot is a
`JobManager(max_workers=1)` over the same store, as the server makes it (same worker code, thread
count and priority); each condition's run is started before and stopped after its round. It prints
each switch's warm median per condition and the ratio to idle (goal: ≤ 1.5×).

Target (issue 14, P5): every switch and rerun ≤ 300 ms warm on the 2-core development machine.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
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
TIMED_STREAMLIT = """
import os, sys, time
from streamlit.runtime.scriptrunner import script_runner
from streamlit.web.cli import main

run_script = script_runner.ScriptRunner._run_script

def timed_run(self, rerun_data):
    started, t0, cpu = time.time(), time.perf_counter(), time.thread_time()
    try:
        return run_script(self, rerun_data)
    finally:
        with open(os.environ["LTLAB_TIMING_LOG"], "a") as log:
            log.write(f"{started:.4f} {time.perf_counter() - t0:.4f} {time.thread_time() - cpu:.4f} "
                      f"{int(bool(rerun_data.fragment_id_queue))}\\n")

script_runner.ScriptRunner._run_script = timed_run
sys.argv = ["streamlit", *sys.argv[1:]]
sys.exit(main())
"""
"""`python -c TIMED_STREAMLIT run app/main.py ...` is `streamlit run app/main.py ...` that appends
one line per script run to $LTLAB_TIMING_LOG: wall-clock start, seconds, CPU seconds of the script
thread (what the run costs, whatever else the machine runs), whether a fragment run.
It patches only Streamlit, so it times a baseline checkout's app the same way."""
FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


class ServerLog:
    """The script runs one timed server logged (see TIMED_STREAMLIT)."""

    def __init__(self, path: Path):
        self.path = path
        path.write_text("")

    def runs(self, since: float) -> list[tuple[float, float, float, bool]]:
        rows = [line.split() for line in self.path.read_text().splitlines() if line.strip()]
        return [(float(a), float(b), float(c), d == "1") for a, b, c, d in rows if float(a) >= since]


def train_store(folder: Path, epochs: int, wanted: int = 10) -> list[str]:
    """`wanted` finished digits runs (ρ 100, one per method) recorded like the Train page's, in
    `folder`: the ones already there (any code version, so a store survives code edits) topped up
    by training the methods still missing."""
    os.environ["LTLAB_DATA"] = str(folder)
    from app.logic.state import geometry_schedule
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


class BrowserCPU:
    """CPU seconds of chromium's renderer main threads while an action is timed: a DevTools trace
    ("toplevel" tasks, their thread time `tdur`) around it."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.events: list = []
        self.done = False
        self.cdp.on("Tracing.dataCollected", lambda event: self.events.extend(event["value"]))
        self.cdp.on("Tracing.tracingComplete", lambda event: setattr(self, "done", True))

    def start(self) -> None:
        self.events, self.done = [], False
        self.cdp.send("Tracing.start", {"categories": "devtools.timeline,toplevel", "transferMode": "ReportEvents"})

    def stop(self, page) -> float:
        self.cdp.send("Tracing.end")
        while not self.done:
            page.wait_for_timeout(10)
        main = {e["tid"] for e in self.events if e.get("name") == "thread_name"
                and e.get("args", {}).get("name") == "CrRendererMain"}
        tasks = sorted((e for e in self.events if e.get("ph") == "X" and e.get("tid") in main and "tdur" in e),
                       key=lambda e: (e["ts"], -e["dur"]))
        total, end = 0, -1
        for event in tasks:  # outermost tasks only (nested ones are inside their parent's time)
            if event["ts"] >= end:
                total, end = total + event["tdur"], event["ts"] + event["dur"]
        return total / 1e6


def timed(page, log: ServerLog, action, ready: str, timeout: float = 60, server: list | None = None,
          cpu: list | None = None, tracer: BrowserCPU | None = None, browser_cpu: list | None = None) -> float:
    """Seconds from `action()` until a script run started after it has finished (the server's log
    says so), the browser has taken in the end of the run, `ready` is visible and two animation
    frames have passed; the seconds the server spent in script runs meanwhile go to `server`, their
CPU seconds to `cpu`."""
    if tracer is not None:
        tracer.start()
    since = time.time() - 0.005
    start = time.perf_counter()
    action()
    deadline = start + timeout
    while not log.runs(since):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no script run in {timeout:.0f} s")
        time.sleep(0.005)
    page.wait_for_selector(browser.IDLE, timeout=timeout * 1000)
    page.locator(ready).first.wait_for(state="visible", timeout=timeout * 1000)
    page.evaluate(FRAMES)
    elapsed = time.perf_counter() - start
    if tracer is not None:
        seconds = tracer.stop(page)
        if browser_cpu is not None:
            browser_cpu.append(seconds)
    if server is not None:
        server.append(sum(run[1] for run in log.runs(since)))
    if cpu is not None:
        cpu.append(sum(run[2] for run in log.runs(since)))
    return elapsed


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


TRACERS: dict[int, BrowserCPU] = {}
"""id(page) → its DevTools tracer (made in `measure`)."""


def attempt(out: dict, name: str, page, log: ServerLog, action, ready: str) -> bool:
    """One timed interaction into out[name] ({"ready": [...], "server": [...]}); False (and a line
    saying why) when it did not work."""
    slot = out.setdefault(name, {"ready": [], "server": [], "cpu": [], "browser_cpu": []})
    try:
        slot["ready"].append(timed(page, log, action, ready, server=slot["server"], cpu=slot["cpu"],
                                   tracer=TRACERS.get(id(page)), browser_cpu=slot["browser_cpu"]))
        return True
    except Exception as exc:  # reported; the benchmark goes on
        print(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
        browser.settle(page, 120)
        return False


def measure(urls: dict[str, str], logs: dict[str, ServerLog], ids: list[str], rounds: int, chromium: str,
            scratch: Path) -> dict:
    """Per app version (interleaved round by round, so both see the same machine load): the switch
    times of every page and the rerun times."""
    out = {version: {} for version in urls}
    with browser.browser(chromium, scratch) as first:
        pages = {version: first if i == 0 else first.context.browser.new_page() for i, version in enumerate(urls)}
        for version, page in pages.items():
            TRACERS[id(page)] = BrowserCPU(page)
            page.set_viewport_size({"width": 1400, "height": 900})
            page.goto(f"{urls[version]}/?runs={','.join(ids)}")
            browser.settle(page, 120)
        for _ in range(rounds):
            for version, page in pages.items():
                for label, ready in [*list(PAGES.items())[1:], ("Data", PAGES["Data"])]:
                    attempt(out[version], f"switch to {label}", page, logs[version], nav(page, label), ready)
        for _ in range(2):  # reruns: round by round too
            for version, page in pages.items():
                for name, (where, actions) in reruns(page, max(rounds // 2, 1)).items():
                    nav(page, where)()
                    page.locator(PAGES[where]).first.wait_for(state="visible", timeout=120_000)
                    browser.settle(page, 120)
                    for action, ready in actions:
                        if not attempt(out[version], name, page, logs[version], action, ready):
                            break
                        page.wait_for_timeout(150)
    return out


TRAINING = {"idle": None, "training, worker at server priority": "0", "training, worker niced": None,
            "training, worker at nice 19": "19"}
"""Condition → `LTLAB_WORKER_NICE` of its busy slot's worker (`None` for idle: no slot; for the
last: the worker's own default)."""
LONG_EPOCHS = 100_000  # the busy slot's run: far longer than a round, stopped when it ends


def busy_slots(folder: Path) -> dict:
    """Condition → a JobManager of one slot over the store in `folder` (None for idle), its warm
    worker started with that condition's priority."""
    os.environ["LTLAB_DATA"] = str(folder)
    from ltcore.runs import JobManager, RunStore

    made = {}
    for name, nice in TRAINING.items():
        if name == "idle":
            made[name] = None
            continue
        saved = os.environ.pop("LTLAB_WORKER_NICE", None)
        if nice is not None:
            os.environ["LTLAB_WORKER_NICE"] = nice
        made[name] = JobManager(RunStore(), max_workers=1)
        os.environ.pop("LTLAB_WORKER_NICE", None)
        if saved is not None:
            os.environ["LTLAB_WORKER_NICE"] = saved
    return made


def start_busy(manager, seed: int) -> str:
    """Queue one long digits run on `manager` and wait until it trains (an epoch has ended)."""
    from ltcore import Config

    _, run_id = manager.request(Config(dataset="digits", ratio=100, method="ce", epochs=LONG_EPOCHS,
                                       seed=10_000 + seed))
    deadline = time.monotonic() + 120
    while (manager.status(run_id) or {}).get("epoch", 0) < 1:
        if time.monotonic() > deadline:
            raise TimeoutError("the busy slot's run did not start within 120 s")
        time.sleep(0.2)
    return run_id


def measure_training(url: str, log: ServerLog, ids: list[str], rounds: int, chromium: str, scratch: Path,
                     folder: Path) -> dict:
    """Per condition of TRAINING (interleaved round by round): the switch times of every page."""
    managers = busy_slots(folder)
    out = {name: {} for name in TRAINING}
    try:
        with browser.browser(chromium, scratch) as page:
            TRACERS[id(page)] = BrowserCPU(page)
            page.goto(f"{url}/?runs={','.join(ids)}")
            browser.settle(page, 120)
            for round_ in range(rounds):
                for i, (name, manager) in enumerate(managers.items()):
                    run_id = start_busy(manager, 10 * round_ + i) if manager else None
                    try:
                        for label, ready in [*list(PAGES.items())[1:], ("Data", PAGES["Data"])]:
                            attempt(out[name], f"switch to {label}", page, log, nav(page, label), ready)
                    finally:
                        if run_id:
                            manager.stop(run_id)
                            while (manager.status(run_id) or {}).get("status") in ("queued", "running"):
                                time.sleep(0.1)
    finally:
        for manager in managers.values():
            if manager:
                manager.shutdown(kill=True)
    return out


def print_training(raw: dict) -> None:
    """Each switch's warm median (and max) per condition, and its ratio to idle, as a table."""
    names = list(raw)
    idle = names[0]
    print("\n| switch (ms, warm p50 / max) | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for switch, times in raw[idle].items():
        base = summary(times["ready"])["warm_median"] if times["ready"] else None
        cells = []
        for name in names:
            found = raw[name].get(switch, {}).get("ready")
            if not found:
                cells.append("-")
                continue
            s_ = summary(found)
            ratio = f" ({s_['warm_median'] / base:.2f}× idle)" if base and name != idle else ""
            cells.append(f"{1000 * s_['warm_median']:.0f} / {1000 * s_['warm_max']:.0f}{ratio}")
        print(f"| {switch} | " + " | ".join(cells) + " |")
    pooled = {name: statistics.median([t for times in raw[name].values() for t in times["ready"][1:]] or [math.nan])
              for name in names}
    print("| every warm switch, pooled | " + " | ".join(
        f"{1000 * pooled[name]:.0f}" + (f" ({pooled[name] / pooled[idle]:.2f}× idle)" if name != idle else "")
        for name in names) + " |")


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


def require_chromium() -> str:
    """Debian's chromium, or exit saying how to install it."""
    chromium = browser.find_chromium()
    if chromium is None:
        raise SystemExit("no chromium found: apt-get install -y chromium")
    return chromium


def timed_server(stack: contextlib.ExitStack, folder: Path, root: Path, log: ServerLog,
                 log_name: str = "streamlit.log") -> str:
    """URL of `root`'s app/main.py served (until `stack` closes) through the TIMED_STREAMLIT
    wrapper, which logs every script run into `log`."""
    return stack.enter_context(browser.serve(folder, root=root, log_name=log_name,
                                             launcher=[sys.executable, "-c", TIMED_STREAMLIT],
                                             env={"LTLAB_TIMING_LOG": str(log.path)}))


def load_line(before, after) -> str:
    """The machine's load before and after a measurement, in one printed line."""
    return (f"load average (1/5/15 min) before {' '.join(f'{x:.1f}' for x in before)}, "
            f"after {' '.join(f'{x:.1f}' for x in after)}, on {os.cpu_count()} cores")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="visits of every page (the first is the cold one)")
    parser.add_argument("--store", type=Path, help="data folder to reuse (trained into when empty)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--baseline", help="git ref of an earlier app to measure side by side (e.g. a commit)")
    parser.add_argument("--json", type=Path, help="write the raw times here")
    parser.add_argument("--training", action="store_true",
                        help="page switches idle and with one job slot busy, side by side (issue 22 item 9)")
    args = parser.parse_args(argv)
    if args.training and args.baseline:
        parser.error("--training measures this app only; leave out --baseline")
    chromium = require_chromium()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = args.store or Path(tmp) / "data"
        folder.mkdir(parents=True, exist_ok=True)
        ids = train_store(folder, args.epochs)
        roots = {"this": ROOT}
        if args.baseline:
            roots = {f"baseline {args.baseline[:10]}": baseline_checkout(args.baseline, Path(tmp) / "baseline"),
                     **roots}
        logs = {version: ServerLog(Path(tmp) / f"timing-{i}.log") for i, version in enumerate(roots)}
        urls = {version: timed_server(stack, folder, root, logs[version], f"streamlit-{i}.log")
                for i, (version, root) in enumerate(roots.items())}
        load_before = os.getloadavg()
        if args.training:
            raw = measure_training(urls["this"], logs["this"], ids, args.rounds, chromium, Path(tmp), folder)
        else:
            raw = measure(urls, logs, ids, args.rounds, chromium, Path(tmp))
        load_after = os.getloadavg()
    print(f"with {len(ids)} digits runs selected; ms. End to end: from the click until the script run is over, "
          "the page's chart is drawn and two frames have passed; server: the script runs themselves.")
    print(load_line(load_before, load_after))
    if args.training:
        print_training(raw)
    for version, rows in raw.items():
        print(f"\n{version:28} {'first':>6} {'warm p50':>9} {'warm max':>9} {'server p50':>11} {'server max':>11}"
              f" {'CPU p50':>8} {'browser CPU p50':>16}")
        for name, times in rows.items():
            if times["ready"]:
                s_ = summary(times["ready"])
                server, cpu = times["server"][1:] or times["server"], times["cpu"][1:] or times["cpu"]
                browser_cpu = times["browser_cpu"][1:] or times["browser_cpu"]
                print(f"{name:28} {1000 * s_['first']:6.0f} {1000 * s_['warm_median']:9.0f} "
                      f"{1000 * s_['warm_max']:9.0f} {1000 * statistics.median(server):11.0f} "
                      f"{1000 * max(server):11.0f}"
                      f" {1000 * statistics.median(cpu):8.0f} {1000 * statistics.median(browser_cpu):16.0f}")
    if len(raw) == 2:
        (base, b), (this, t) = raw.items()
        print(f"\nwarm p50 ratio {base} / {this} (end to end; server; server CPU; browser CPU):")
        for name in t:
            if t[name]["ready"] and b.get(name, {}).get("ready"):
                ratio = summary(b[name]["ready"])["warm_median"] / summary(t[name]["ready"])["warm_median"]
                server, cpu = ((statistics.median(b[name][k][1:] or b[name][k])
                                / statistics.median(t[name][k][1:] or t[name][k])) for k in ("server", "cpu"))
                browser_cpu = (statistics.median(b[name]["browser_cpu"][1:] or b[name]["browser_cpu"])
                               / statistics.median(t[name]["browser_cpu"][1:] or t[name]["browser_cpu"]))
                print(f"  {name:26} {ratio:5.2f}×  {server:5.2f}×  {cpu:5.2f}×  {browser_cpu:5.2f}×")
    if args.json:
        args.json.write_text(json.dumps({"load_before": load_before, "load_after": load_after, "runs": raw}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
