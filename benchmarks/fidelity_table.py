"""Fill the "Fidelity" table of docs/methods.md from the measured output of tests/fidelity.

Runs `pytest tests/fidelity` with LTLAB_FIDELITY_OUT set (each test records preset, authors'
source, what was compared and the measured max |diff|), then writes one row per (preset, source,
what) between the page's markers, followed by the stated differences from the authors
(`ltcore.methods.differences`). Nothing is typed by hand: rerun after changing a method.

    python benchmarks/fidelity_table.py            # run the checks, update docs/methods.md
    python benchmarks/fidelity_table.py --print    # print the tables only
"""
from __future__ import annotations

import argparse
import json
import re
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- fidelity-table:start -->", "<!-- fidelity-table:end -->"
PAGE = ROOT / "docs" / "methods.md"  # the page that holds the table between START and END


def measure() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        env = {**os.environ, "LTLAB_FIDELITY_OUT": str(out), "LTLAB_DATA": tmp}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(ROOT / "tests" / "fidelity")], cwd=ROOT, env=env)
        if done.returncode != 0:
            sys.exit("tests/fidelity failed: the table is only written from passing checks")
        return json.loads(out.read_text())


def table(rows: list[dict]) -> str:
    """Markdown rows, the largest difference of repeated comparisons (e.g. over β, τ, epochs) kept."""
    merged: dict[tuple, dict] = {}
    for r in rows:
        what = re.sub(r",\s*(β|γ|τ|λ|epoch)\b.*$", "", r["what"])  # cases of one comparison merge
        key = (r["preset"], r["source"], what)
        cases = merged.setdefault(key, {**r, "what": what, "cases": 0, "max_abs_diff": 0.0})
        cases["cases"] += 1
        cases["max_abs_diff"] = max(cases["max_abs_diff"], r["max_abs_diff"])
    lines = ["| preset | authors' repository / file | what was compared | cases | max \\|diff\\| |",
             "|---|---|---|---|---|"]
    for (preset, source, what), r in sorted(merged.items(), key=lambda kv: kv[0][0]):
        diff = ("identical" if r["max_abs_diff"] == 0 else f"{r['max_abs_diff']:.1e}") \
            if r["kind"] == "values" else ("identical predictions" if r["max_abs_diff"] == 0 else "DIFFER")
        lines.append(f"| `{preset}` | {source} | {what} | {r['cases']} | {diff} |")
    return "\n".join(lines)


def differences() -> str:
    """The stated differences from the authors, one row each."""
    sys.path.insert(0, str(ROOT))
    from ltcore.methods.differences import DIFFERENCES

    lines = ["Where a preset knowingly differs from its authors (stated in its docstring):", "",
             "| preset | authors' repository / file | what differs | why |", "|---|---|---|---|"]
    lines += [f"| `{d.preset}` | {d.source} | {d.differs} | {d.why} |" for d in DIFFERENCES]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, leave docs/methods.md alone")
    args = parser.parse_args()
    text = table(measure()) + "\n\n" + differences()
    if args.print:
        print(text)
        return
    body = PAGE.read_text()
    if START not in body or END not in body:
        sys.exit(f"{PAGE.relative_to(ROOT)} lacks the {START} … {END} markers")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(text)


if __name__ == "__main__":
    main()
