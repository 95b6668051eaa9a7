"""Shared helpers of the dashboard tests: figure data out of AppTest, runs trained into a store."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from stores import train_into  # noqa: F401  (the app tests' runs, as a worker trains them)

ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(ROOT / "app" / "main.py")


def page(name: str) -> str:
    """A page path as AppTest.switch_page wants it (relative to app/main.py)."""
    return f"../pages/{name}.py"


def decode(value):
    """Plotly 7 stores numeric arrays as {"dtype", "bdata"}; return plain lists."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = [int(s) for s in str(value["shape"]).split(",")]
            array = array.reshape(shape)
        return array.tolist()
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def figures(at) -> dict[str, dict]:
    """Every plotly chart of the page as figure JSON, by its element key (id suffix)."""
    out = {}
    for i, chart in enumerate(at.get("plotly_chart")):
        spec = json.loads(chart.proto.spec)
        key = chart.proto.id.rsplit("-", 1)[-1] if chart.proto.id else str(i)
        out[key] = spec
    return out


def trace_values(trace: dict, axis: str) -> list:
    return decode(trace.get(axis))
