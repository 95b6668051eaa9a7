"""How long one move of a τ slider takes (issue 14: ≤ 100 ms a move): `ltcore.whatif.evaluate` on
a stored model's outputs, for a 2-D run (with decision regions) and a digits run, against the
one-time `prepare` and a full re-evaluation through the model. Trains two tiny runs first.

    python benchmarks/whatif_speed.py [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def timed(fn, repeat: int) -> float:
    """Median seconds of `repeat` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2 = the CI machine)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    os.environ["LTLAB_DATA"] = tempfile.mkdtemp(prefix="whatif_bench_")
    from ltcore import Config, whatif
    from ltcore.runs import RunStore
    from ltcore.runs.execute import execute

    store = RunStore()
    print(f"torch threads: {args.threads}; median of {args.repeat} moves")
    for dataset, epochs in (("gaussians", 10), ("digits", 10)):
        _, run_id = store.claim(Config(dataset=dataset, ratio=100, method="ce", epochs=epochs), os.getpid())
        store.mark_running(run_id, os.getpid())
        execute(store, run_id)
        config, state = store.config(run_id), store.load_checkpoint(run_id)
        start = time.perf_counter()
        outputs = whatif.prepare(config, state)
        prepared = time.perf_counter() - start
        taus = iter([0.05 * i for i in range(10_000)])
        move = timed(lambda: whatif.evaluate(outputs, la_tau=next(taus), norm_tau=0.5), args.repeat)
        print(f"{dataset:10s} test images {len(outputs.labels):5d}  grid {'yes' if outputs.grid else 'no ':3s}  "
              f"prepare once {1000 * prepared:7.1f} ms  one slider move {1000 * move:6.1f} ms  "
              f"(goal ≤ 100 ms: {'met' if move <= 0.1 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
