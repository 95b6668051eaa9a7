"""Helpers of the hostile suite (a module of its own: `conftest` names clash across test folders)."""
from __future__ import annotations


def refused(code: int, out: str, err: str) -> str:
    """Assert a clean refusal: exit 2, exactly one `error:` line, no traceback; returns the line."""
    assert "Traceback" not in out + err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`python -m ltcore ARGV` in this process: (exit code, stdout, stderr)."""
    from ltcore.cli import main

    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def runs_of(store) -> list[tuple]:
    """What must not change: each run's id, status, epoch, error and result summary."""
    return [(r["run_id"], r["status"], r["epoch"], r["error"], r["balanced_acc"]) for r in store.list_runs()]
