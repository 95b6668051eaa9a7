"""Fidelity checks: each test runs a short transcription of the authors' published function (its
repository, file and lines cited beside it) and ltcore's on identical random inputs.

`fidelity(preset, source, what, diff)` asserts max |diff| ≤ 1e-5 and records the row; with
LTLAB_FIDELITY_OUT set the rows are written there as JSON at the end of the session, which is how
`benchmarks/fidelity_table.py` fills the Fidelity table of docs/methods.md from measured values.
"""
import json
import os

import pytest
import torch

TOLERANCE = 1e-5
ROWS: list[dict] = []


def max_abs_diff(a, b) -> float:
    a = torch.as_tensor(a).detach().double()
    b = torch.as_tensor(b).detach().double()
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a - b).abs().max()) if a.numel() else 0.0


@pytest.fixture
def fidelity():
    def record(preset: str, source: str, what: str, ours, theirs, choice: bool = False) -> float:
        """Compare `ours` with `theirs` (tensors); `choice` = predictions, which must be identical."""
        diff = max_abs_diff(ours, theirs)
        ROWS.append({"preset": preset, "source": source, "what": what, "max_abs_diff": diff,
                     "kind": "identical predictions" if choice else "values"})
        if choice:
            assert diff == 0, f"{preset}: {what}: predictions differ"
        else:
            assert diff <= TOLERANCE, f"{preset}: {what}: max |diff| {diff:.3g} > {TOLERANCE}"
        return diff

    return record


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("LTLAB_FIDELITY_OUT")
    if path and ROWS:
        with open(path, "w") as f:
            json.dump(ROWS, f, indent=1)
