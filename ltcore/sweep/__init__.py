"""Sweeps behind one API: a grid of methods × imbalance ratios × seeds (optionally a search over a
method hyper-parameter), trained by the `local` job queue or as Ray Tune trials (`ray`), with the run
store as the single source of truth — configurations already finished there are never submitted again.

    from ltcore.sweep import SweepSpec, run_sweep
    outcome = run_sweep(SweepSpec(Config(epochs=5), methods=("ce", "la_loss"), ratios=(10, 100), seeds=(0, 1)),
                        backend="ray", address="10.0.0.1:6379")
    outcome.results            # run id → RunResult of every finished run of the sweep

One job a module: `grid` (the spec and its configs), `run` (run_sweep: plan, then the `local` or
`ray_tune` backend), `progress`, `summary` (tables of results), `relative` (relative accuracy).
"""
from .grid import (OBJECTIVE, SEARCHES, ParamRange, SweepSpec, check_size, parse_range, round_sig,
                   sweep_configs)
from .progress import Progress, TerminalBar, estimate, finished_in_store, format_seconds
from .relative import relative_accuracy_for
from .run import BACKENDS, SweepOutcome, plan, run_sweep
from .summary import (SUMMARY_KEYS, best_points, format_search, format_summary, search_table, summarise,
                      searched_values)

__all__ = ["BACKENDS", "OBJECTIVE", "SEARCHES", "SUMMARY_KEYS", "ParamRange", "Progress", "SweepOutcome",
           "SweepSpec", "TerminalBar", "best_points", "check_size", "estimate", "finished_in_store", "format_search",
           "format_seconds", "format_summary", "parse_range", "plan", "relative_accuracy_for", "round_sig", "run_sweep",
           "search_table", "searched_values", "summarise", "sweep_configs"]
