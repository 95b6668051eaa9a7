"""Lessons files for tests: a lesson as TOML from the few fields a test cares about, and the file
written where `LTLAB_LESSONS` (or `lessons.load(path)`) reads it."""
from __future__ import annotations

import json
from pathlib import Path


def lesson(short: str, methods: list[str], title: str | None = None, epochs: int = 1,
           charts: tuple = ("shots",), **texts: str) -> str:
    """One `[[lesson]]` table on `gaussians`: one run per method; `texts` (answer, notes, …) as
    strings after the question."""
    lines = ["[[lesson]]", f'short = "{short}"', f'title = "{title or short}"', 'text = "x"', 'question = "why?"',
             *(f"{key} = {json.dumps(value)}" for key, value in texts.items()),
             f"charts = {json.dumps(list(charts))}", f'base = {{ dataset = "gaussians", epochs = {epochs} }}',
             "runs = [ " + ", ".join(f'{{ method = "{m}" }}' for m in methods) + " ]"]
    return "\n".join(lines) + "\n"


def write_lessons(folder: Path, text: str | None) -> Path:
    """`folder`/lessons.toml holding `text` (None: the path of a file that does not exist)."""
    path = Path(folder) / "lessons.toml"
    if text is not None:
        path.write_text(text)
    return path
