"""How long each Learn lesson takes to train from nothing, and how long "Prepare the class" takes.

Each lesson alone: a fresh run store, the server's job queue (JobManager, its default job slots:
one on a CPU), every configuration of the lesson submitted at once as its Run button does; the
time is from the press to the last run done (worker start-up included, as for the first student
of a cold server). Then "Prepare": one fresh store, every lesson's runs queued by
`ltcore.classroom.prepare` (shared runs once), until all are done. Goal: each lesson ≤ 10 s,
Prepare ≤ 180 s on a 2-core CPU.

Beside the wall time, the CPU seconds of the job workers (their torch start included): a worker
trains with one thread on 2 cores, so on an idle machine its CPU time is about the wall time —
the figure that stays comparable when other programs share the CPU.

    python benchmarks/lesson_times.py [--lessons 1,7] [--no-prepare] [--json out.json]
    python benchmarks/lesson_times.py --in-order   # lessons 1 → 8 in one store: what each adds
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LESSON_GOAL_S, PREPARE_GOAL_S = 10.0, 180.0


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's child processes (the workers): the ended ones
    (reaped) and the live ones (from /proc)."""
    t = os.times()
    total, tick = t.children_user + t.children_system, os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        if fields[1] == str(os.getpid()):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def in_order(found) -> list[tuple[int, float, float, int]]:
    """A class going through the lessons in order without Prepare: one store, each lesson pressed
    once the ones before it are done, so it trains only what they did not share (plain `ce`, the
    stage-1 models). Per lesson: (number, wall s, worker CPU s, runs it trained)."""
    from ltcore.runs import JobManager, RunStore

    data = Path(tempfile.mkdtemp(prefix="lesson_order_"))
    os.environ["LTLAB_DATA"] = str(data)
    manager = JobManager(RunStore(data / "runs.sqlite"))
    out = []
    try:
        for lesson in found:
            cpu, started = children_cpu_seconds(), time.perf_counter()
            asked = [manager.request(c) for c in lesson.configs()]
            for _, rid in asked:
                manager.wait(rid, timeout=1800)
            out.append((lesson.number, time.perf_counter() - started, children_cpu_seconds() - cpu,
                        sum(state == "queued" for state, _ in asked)))
    finally:
        manager.shutdown(kill=True)
    return out


def timed(configs_or_lessons, prepare: bool) -> tuple[float, float, int, list[str]]:
    """Seconds from the submission to the last run done in a fresh store, the worker's CPU seconds,
    runs trained, failures."""
    from ltcore.classroom import prepare as prepare_class
    from ltcore.runs import JobManager, RunStore

    data = Path(tempfile.mkdtemp(prefix="lesson_times_"))
    os.environ["LTLAB_DATA"] = str(data)
    cpu_before = children_cpu_seconds()
    manager = JobManager(RunStore(data / "runs.sqlite"))
    try:
        started = time.perf_counter()
        if prepare:
            prepare_class(manager, configs_or_lessons)
            ids = [row["run_id"] for row in manager.store.list_runs()]
        else:
            ids = [manager.submit(c) for c in configs_or_lessons]
        statuses = [manager.wait(rid, timeout=1800) for rid in ids]
        seconds = time.perf_counter() - started
    finally:
        manager.shutdown(kill=True)                 # every worker ends and is reaped: its CPU time counts
    cpu = children_cpu_seconds() - cpu_before
    failed = [f"{s['run_id']}: {s['status']} {s['error']}" for s in statuses if s["status"] != "done"]
    return seconds, cpu, len(set(ids)), failed


def main() -> int:
    from ltcore import __version__, lessons

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", help="comma-separated lesson numbers (default: all)")
    parser.add_argument("--no-prepare", action="store_true", help="skip the whole-class Prepare timing")
    parser.add_argument("--in-order", action="store_true",
                        help="only: the lessons one after the other in one store (shared runs trained once)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    import torch

    found = lessons.load()
    wanted = [int(n) for n in args.lessons.split(",")] if args.lessons else [l.number for l in found]
    print(f"ltcore {__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    report, ok = {"lessons": {}}, True
    if args.in_order:
        for number, seconds, cpu, runs in in_order(found):
            report["lessons"][number] = {"wall_s": seconds, "worker_cpu_s": cpu, "trained": runs}
            print(f"lesson {number} after lessons 1–{number - 1}: trained {runs} runs  wall {seconds:6.1f} s  "
                  f"worker CPU {cpu:6.1f} s  goal {LESSON_GOAL_S:.0f} s: CPU {cpu / LESSON_GOAL_S:.2f}×", flush=True)
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} (an idle machine: under 1)")
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
        return 0
    for lesson in found:
        if lesson.number not in wanted:
            continue
        seconds, cpu, runs, failed = timed(lesson.configs(), prepare=False)
        report["lessons"][lesson.number] = {"short": lesson.short, "runs": runs, "seconds": seconds,
                                            "worker_cpu_s": cpu, "failed": failed}
        ok &= seconds <= LESSON_GOAL_S and not failed
        print(f"lesson {lesson.number} {lesson.short:20} {runs:3} runs  wall {seconds:6.1f} s  worker CPU {cpu:6.1f} s"
              f"  goal {LESSON_GOAL_S:.0f} s: wall {seconds / LESSON_GOAL_S:.2f}×, CPU {cpu / LESSON_GOAL_S:.2f}×"
              + (f"  FAILED {failed[:1]}" if failed else ""), flush=True)
    if not args.no_prepare:
        seconds, cpu, runs, failed = timed(found, prepare=True)
        report["prepare"] = {"runs": runs, "seconds": seconds, "worker_cpu_s": cpu, "failed": failed}
        ok &= seconds <= PREPARE_GOAL_S and not failed
        print(f"prepare all {len(found)} lessons: {runs} distinct runs  wall {seconds:6.1f} s  worker CPU {cpu:6.1f} s"
              f"  goal {PREPARE_GOAL_S:.0f} s: wall {seconds / PREPARE_GOAL_S:.2f}×, CPU {cpu / PREPARE_GOAL_S:.2f}×"
              + (f"  FAILED {failed[:1]}" if failed else ""), flush=True)
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} (an idle machine: under 1)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
