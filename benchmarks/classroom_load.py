"""Classroom load: 30 students at once on one Long-Tail Lab server.

Starts `streamlit run app/main.py` on a free port with a fresh data folder (from the repository
root, so the server reads `.streamlit/config.toml` as `make run` does), then opens one real
Streamlit session per student over the server's websocket (the protocol the browser speaks:
BackMsg/ForwardMsg protobufs, button clicks as widget triggers, `run_every` fragments re-run when the
server asks). Student i opens the Learn page on lesson (i mod L) + 1 (L lessons, 8 now) and presses its Run button, so
identical configurations are requested by several students at once and different ones by others.
A probe session reloads the Data page every second during the load; the same page loaded five
times with nobody else on the server gives the idle baseline.

Reports: distinct configurations and how often each was trained (must be exactly once, from the
store's attempt counter), whether every student saw the lesson's result charts, errors, and
p50/p95 latency of full page runs and of fragment polls.

    python benchmarks/classroom_load.py [--students 30] [--workers N] [--json out.json]
    python benchmarks/classroom_load.py --mode jobs   # JobManager only, no server (threads)
    python benchmarks/classroom_load.py --prepared    # the teacher's Prepare first, then the class

With `--prepared` (issue 23) the server is started cold with a teacher key; a teacher session
unlocks teacher mode with it, presses "Prepare the class" and watches the board until every
lesson is ready (the cold Prepare time, goal ≤ 180 s); then the students each open a random lesson
at once (no Run press: the runs are there) and the time from opening the page to its result charts
is measured (goal p95 ≤ 2 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ltcore.runs.procs import free_port  # noqa: E402  (this repository's ltcore)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(round(q / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def lesson_configs() -> dict[int, list]:
    from ltcore import lessons
    return {lesson.number: lesson.configs() for lesson in lessons.load()}


def lesson_of(student: int) -> int:
    """The lesson number student i opens: the lessons in turn."""
    from ltcore import lessons
    return student % len(lessons.load()) + 1


# -- one browser session over the websocket ----------------------------------------------------------
class Session:
    """A Streamlit session as the browser runs it: rerun requests, widget triggers, fragment polls."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        self.page_runs: list[float] = []
        self.fragment_runs: list[float] = []
        self.errors: list[str] = []
        self.fragments: dict[str, float] = {}
        self.page_hash = ""
        self.widgets: dict[str, object] = {}   # widget id → value sent with every later rerun

    async def __aenter__(self):
        from websockets.asyncio.client import connect
        self.ws = await connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def run(self, page: str, query: str, trigger: str = "", fragment: str = "") -> dict:
        """Send one rerun (with the values of `widgets`) and collect its elements until the script
        run finishes."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name, state.page_script_hash = query, page, self.page_hash
        if fragment:
            state.fragment_id, state.is_auto_rerun = fragment, True
        for wid, value in self.widgets.items():
            widget = state.widget_states.widgets.add()
            widget.id, widget.string_value = wid, value
        if trigger:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = trigger, True
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        seen = {"buttons": {}, "charts": [], "errors": [], "inputs": {}, "text": []}
        registered: dict[str, float] = {}
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                registered = {}
            elif kind == "navigation" and fwd.navigation.page_script_hash:
                self.page_hash = fwd.navigation.page_script_hash  # later reruns stay on this page
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element, seen)
            elif kind == "auto_rerun":
                registered[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
                self.fragments[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fid in fwd.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif kind == "page_not_found":
                seen["errors"].append(f"page not found: {page}")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the script asked for a rerun (st.rerun): the page run goes on
                elapsed = time.perf_counter() - started
                if status == "FINISHED_SUCCESSFULLY":
                    self.fragments = registered  # a full run: timers of fragments it did not draw end
                (self.fragment_runs if fragment else self.page_runs).append(elapsed)
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    seen["errors"].append("script compile error")
                self.errors += seen["errors"]
                return seen

    @staticmethod
    def _element(element, seen: dict) -> None:
        which = element.WhichOneof("type")
        if which == "button":
            seen["buttons"][element.button.label] = element.button.id
        elif which == "text_input":
            seen["inputs"][element.text_input.label] = element.text_input.id
        elif which == "markdown":
            seen["text"].append(element.markdown.body)
        elif which == "plotly_chart":
            seen["charts"].append(element.plotly_chart.id)
        elif which == "exception":
            seen["errors"].append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
        elif which == "alert" and element.alert.format == 1:  # ERROR
            seen["errors"].append(f"error box: {element.alert.body[:200]}")


def result_charts(seen: dict, lesson: int) -> list[str]:
    """The lesson's result charts on the page (keys `lesson<n>_<kind>`; `_curves` is the live view)."""
    return [c for c in seen["charts"] if f"lesson{lesson}_" in c and not c.endswith("_curves")]


async def student(url: str, number: int, lesson: int, deadline: float, timeout: float) -> dict:
    """Open the lesson, press Run, follow the live view until the lesson's charts are drawn."""
    out = {"student": number, "lesson": lesson, "result": False, "seconds": None}
    t0 = time.perf_counter()
    query = f"lesson={lesson}"
    try:
        async with Session(url, timeout) as s:
            out["session"] = s
            first = await s.run("learn", query)
            button = next((bid for label, bid in first["buttons"].items() if label.startswith("Run lesson")), None)
            if button is None:
                s.errors.append("no Run button on the Learn page")
                return out
            seen = await s.run("learn", query, trigger=button)
            while not result_charts(seen, lesson):
                if seen["errors"]:
                    return out
                if time.perf_counter() > deadline:
                    s.errors.append("no result before the deadline")
                    return out
                if s.fragments:  # what the browser does for st.fragment(run_every=...)
                    fid, interval = next(iter(s.fragments.items()))
                    await asyncio.sleep(interval)
                    seen = await s.run("learn", query, fragment=fid)
                else:
                    await asyncio.sleep(1.0)
                    seen = await s.run("learn", query)
            out["result"], out["seconds"] = True, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none aborts the others
        out.setdefault("session", None)
        out["exception"] = f"{type(exc).__name__}: {exc}"
    return out


async def probe(url: str, stop: asyncio.Event, timeout: float) -> Session:
    """Another user browsing the Data page once a second while the class trains."""
    async with Session(url, timeout) as s:
        while not stop.is_set():
            await s.run("", "")
            await asyncio.sleep(1.0)
    return s


async def baseline(url: str, timeout: float, loads: int = 5) -> Session:
    """The same page loads with nobody else on the server (the first one warms the imports)."""
    async with Session(url, timeout) as s:
        for _ in range(loads + 1):
            await s.run("", "")
    s.page_runs = s.page_runs[1:]
    return s


async def classroom(url: str, students: int, budget: float, timeout: float):
    idle = await baseline(url, timeout)
    deadline = time.perf_counter() + budget
    stop = asyncio.Event()
    watcher = asyncio.create_task(probe(url, stop, timeout))
    results = await asyncio.gather(*[student(url, i, lesson_of(i), deadline, timeout) for i in range(students)])
    stop.set()
    return results, await watcher, idle


# -- the prepared class (issue 23) -------------------------------------------------------------------
BOARD_READY = "lessons ready"


async def prepare_class(url: str, key: str, budget: float, timeout: float) -> dict:
    """The teacher: open Learn, unlock teacher mode with the server's key, press Prepare the class,
    follow the board until every lesson is ready. Returns the seconds from the press to ready."""
    async with Session(url, timeout) as s:
        first = await s.run("learn", "lesson=1")
        field, unlock = first["inputs"].get("Teacher key"), first["buttons"].get("Unlock")
        if not field or not unlock:
            raise SystemExit("no teacher key field on the Learn page: is LTLAB_TEACHER_KEY passed to the server?")
        s.widgets[field] = key
        await s.run("learn", "lesson=1", trigger=unlock)
        s.widgets.pop(field)
        page = await s.run("learn", "lesson=1")
        press = page["buttons"].get("Prepare the class")
        if press is None:
            raise SystemExit(f"teacher mode did not open: {page['errors'] or page['text'][:3]}")
        started = time.perf_counter()
        seen = await s.run("learn", "lesson=1", trigger=press)
        board = ""
        while True:
            board = next((t for t in seen["text"] if BOARD_READY in t), board)
            total = len(lesson_configs())
            if f"{total} of {total} {BOARD_READY}" in board:
                return {"prepare_s": time.perf_counter() - started, "board": board, "errors": s.errors}
            if time.perf_counter() - started > budget:
                return {"prepare_s": None, "board": board, "errors": s.errors + ["Prepare did not finish"]}
            await asyncio.sleep(1.0)
            seen = await s.run("learn", "lesson=1")     # the whole page: its board is read once a second


async def open_lesson(url: str, number: int, lesson: int, timeout: float) -> dict:
    """A student opening a prepared lesson: seconds from the page request to its result charts."""
    out = {"student": number, "lesson": lesson, "result": False, "seconds": None}
    t0 = time.perf_counter()
    try:
        async with Session(url, timeout) as s:
            out["session"] = s
            seen = await s.run("learn", f"lesson={lesson}")
            out["result"] = bool(result_charts(seen, lesson))
            out["seconds"] = time.perf_counter() - t0
            if not out["result"]:
                s.errors.append(f"lesson {lesson}: no result charts on opening the page")
    except Exception as exc:  # noqa: BLE001
        out.setdefault("session", None)
        out["exception"] = f"{type(exc).__name__}: {exc}"
    return out


async def prepared_class(url: str, key: str, students: int, budget: float, timeout: float, seed: int):
    teacher = await prepare_class(url, key, budget, timeout)
    pick = random.Random(seed)
    lessons = len(lesson_configs())
    results = await asyncio.gather(*[open_lesson(url, i, pick.randint(1, lessons), timeout) for i in range(students)])
    return teacher, results


def prepared_mode(args) -> dict:
    configs = lesson_configs()
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="classroom_prepared_"))
    port = args.port or free_port()
    key = secrets.token_urlsafe(16)
    server = start_server(data, port, args.workers, {"LTLAB_TEACHER_KEY": key})
    try:
        teacher, results = asyncio.run(prepared_class(f"ws://127.0.0.1:{port}/_stcore/stream", key, args.students,
                                                      args.budget, args.timeout, args.seed))
    finally:
        stop_server(server)
    sessions = [r["session"] for r in results if r.get("session")]
    errors = teacher["errors"] + [e for s in sessions for e in s.errors] + [
        r["exception"] for r in results if "exception" in r]
    runs = trainings(data, configs, set(configs))
    charts = [r["seconds"] for r in results if r["result"]]
    return {
        "mode": "prepared (teacher's Prepare on a cold server, then the class opens random lessons)",
        "students": args.students, "prepare_seconds": teacher["prepare_s"], "prepare_goal_s": PREPARE_GOAL_S,
        "distinct_configs": len(runs), "trained_exactly_once": sum(r["attempts"] == 1 for r in runs.values()),
        "runs": runs, "students_with_result": len(charts), "errors": errors,
        "charts_p50_s": percentile(charts, 50), "charts_p95_s": percentile(charts, 95),
        "charts_max_s": max(charts, default=float("nan")), "charts_goal_p95_s": CHARTS_GOAL_S,
        "lessons_opened": sorted({r["lesson"] for r in results}), "data_dir": str(data),
    }


PREPARE_GOAL_S, CHARTS_GOAL_S = 180.0, 2.0


# -- the server ---------------------------------------------------------------------------------------
def start_server(data: Path, port: int, workers: int | None, extra_env: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, LTLAB_DATA=str(data), LTLAB_OFFLINE="1", **(extra_env or {}))
    if workers:
        env["LTLAB_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.headless",
               "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(data / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                              start_new_session=True)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"the server did not start; see {data / 'server.log'}")


def stop_server(server: subprocess.Popen) -> None:
    """End the server and the worker processes it started (its own process group)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)


def trainings(data: Path, configs: dict[int, list], asked: set[int]) -> dict[str, dict]:
    """Per distinct configuration asked for: its status and how many times a worker trained it
    (matched by config hash, whatever code version the server stamped on it)."""
    from ltcore.runs import RunStore
    rows = {r["run_id"].split("-")[0]: r for r in reversed(RunStore(data / "runs.sqlite").list_runs())}
    out = {}
    for lesson in sorted(asked):
        for config in configs[lesson]:
            row = rows.get(config.run_id, {"run_id": config.run_id, "status": "missing", "attempts": 0})
            out[row["run_id"]] = {"method": config.method, "status": row["status"], "attempts": row["attempts"]}
    return out


def app_mode(args) -> dict:
    configs = lesson_configs()
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="classroom_"))
    port = args.port or free_port()
    server = start_server(data, port, args.workers)
    try:
        t0 = time.perf_counter()
        results, watcher, idle = asyncio.run(classroom(f"ws://127.0.0.1:{port}/_stcore/stream", args.students,
                                                 args.budget, args.timeout))
        wall = time.perf_counter() - t0
    finally:
        stop_server(server)
    sessions = [r["session"] for r in results if r.get("session")]
    page = [x for s in sessions for x in s.page_runs]
    frag = [x for s in sessions for x in s.fragment_runs]
    errors = [e for s in sessions for e in s.errors] + [r["exception"] for r in results if "exception" in r]
    runs = trainings(data, configs, {r["lesson"] for r in results})
    done = [r["seconds"] for r in results if r["result"]]
    return {
        "mode": "app (streamlit server, websocket sessions)", "students": args.students, "wall_seconds": wall,
        "distinct_configs": len(runs), "trained_exactly_once": sum(r["attempts"] == 1 for r in runs.values()),
        "runs": runs, "students_with_result": len(done), "errors": errors,
        "page_runs": len(page), "page_p50_s": percentile(page, 50), "page_p95_s": percentile(page, 95),
        "fragment_polls": len(frag), "fragment_p50_s": percentile(frag, 50), "fragment_p95_s": percentile(frag, 95),
        "probe_p50_s": percentile(watcher.page_runs, 50), "probe_p95_s": percentile(watcher.page_runs, 95),
        "idle_page_p50_s": percentile(idle.page_runs, 50), "idle_page_p95_s": percentile(idle.page_runs, 95),
        "time_to_result_p50_s": percentile(done, 50), "time_to_result_max_s": max(done, default=float("nan")),
        "data_dir": str(data),
    }


def jobs_mode(args) -> dict:
    """The JobManager alone: `students` threads submit their lesson and poll status() until done."""
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="classroom_jobs_"))
    os.environ["LTLAB_DATA"] = str(data)
    from ltcore.runs import JobManager, RunStore
    configs = lesson_configs()
    manager = JobManager(RunStore(data / "runs.sqlite"), max_workers=args.workers)
    polls, errors, finished = [], [], []
    lock = threading.Lock()

    def one(i: int) -> None:
        t0 = time.perf_counter()
        try:
            ids = [manager.submit(c) for c in configs[lesson_of(i)]]
            while True:
                t = time.perf_counter()
                states = [manager.status(r) for r in ids]
                with lock:
                    polls.append(time.perf_counter() - t)
                if all(s["status"] not in ("queued", "running") for s in states):
                    break
                time.sleep(0.5)
            bad = [s for s in states if s["status"] != "done"]
            results = [manager.result(r) for r in ids]
            with lock:
                errors.extend(f"{s['run_id']}: {s['status']} {s['error']}" for s in bad)
                if not bad and all(results):
                    finished.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    manager.shutdown()
    runs = trainings(data, configs, {lesson_of(i) for i in range(args.students)})
    return {"mode": "jobs (JobManager + threads, no server)", "students": args.students, "wall_seconds": wall,
            "distinct_configs": len(runs), "trained_exactly_once": sum(r["attempts"] == 1 for r in runs.values()),
            "runs": runs, "students_with_result": len(finished), "errors": errors,
            "status_polls": len(polls), "status_p50_s": percentile(polls, 50), "status_p95_s": percentile(polls, 95),
            "time_to_result_p50_s": percentile(finished, 50),
            "time_to_result_max_s": max(finished, default=float("nan")), "data_dir": str(data)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("app", "jobs"), default="app")
    parser.add_argument("--prepared", action="store_true", help="the teacher prepares the class first (issue 23)")
    parser.add_argument("--seed", type=int, default=0, help="which random lessons the students open (--prepared)")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None, help="job slots (default: one per GPU, else 1)")
    parser.add_argument("--budget", type=float, default=900, help="seconds before a student gives up")
    parser.add_argument("--timeout", type=float, default=120, help="seconds one page run may take")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", help="data folder (default: a fresh temporary one: nothing cached)")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    report = prepared_mode(args) if args.prepared else app_mode(args) if args.mode == "app" else jobs_mode(args)
    for key, value in report.items():
        if key != "runs":
            print(f"{key:24} {value if not isinstance(value, float) else round(value, 3)}")
    for run_id, run in report["runs"].items():
        print(f"  {run_id}  {run['method']:18} {run['status']:9} trained {run['attempts']}×")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    ok = (report["trained_exactly_once"] == report["distinct_configs"] and not report["errors"]
          and report["students_with_result"] == report["students"])
    if args.prepared:
        prepare, charts = report["prepare_seconds"], report["charts_p95_s"]
        print(f"cold Prepare {prepare if prepare is None else round(prepare, 1)} s against the goal "
              f"{PREPARE_GOAL_S:.0f} s"
              f" ({'—' if prepare is None else f'{prepare / PREPARE_GOAL_S:.2f}×'}); charts p95 {charts:.2f} s "
              f"against the goal {CHARTS_GOAL_S:.0f} s ({charts / CHARTS_GOAL_S:.2f}×)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
