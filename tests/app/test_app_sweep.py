"""The Sweep page through AppTest: the grid from the URL → its runs in the store → figures drawn from
the stored numbers; Run trains only what the store lacks."""
from __future__ import annotations

import statistics
import time

import pytest

from apphelpers import figures, page, trace_values

GRID = {"dataset": "gaussians", "epochs": "2", "sw_methods": "ce,balanced_softmax", "sw_ratios": "10,50",
        "sw_seeds": "2"}


def grid_configs():
    from ltcore import Config
    from ltcore.sweep import SweepSpec

    return SweepSpec(Config(dataset="gaussians", epochs=2, batch_size=128, lr=0.1),
                     ("ce", "balanced_softmax"), (10, 50), (0, 1)).configs()


@pytest.fixture(scope="module")
def sweep_store(trained_store):
    """The grid's 8 runs but one (ce, ρ=50, seed 1) trained into a store, as a worker would."""
    configs = grid_configs()
    missing = next(c for c in configs if (c.method, c.ratio, c.seed) == ("ce", 50, 1))
    data, store, _ = trained_store("sweep_lab", [c for c in configs if c != missing])
    return data, store, missing


def open_sweep(app, query):
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    return app.switch_page(page("sweep")).run()


def test_sweep_page_shows_the_grid_trains_only_the_missing_run_and_draws_stored_numbers(app, sweep_store, monkeypatch):
    data, store, missing = sweep_store
    monkeypatch.setenv("LTLAB_DATA", str(data))
    monkeypatch.setenv("LTLAB_WORKERS", "1")
    at = open_sweep(app, GRID)
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "8 runs" in text and "7 already in the store" in text
    run = at.button(key="sweep_run")
    assert run.label == "Run 1 run"
    run.click().run()
    deadline = time.monotonic() + 240
    while store.get(store.run_id_for(missing))["status"] != "done":
        assert time.monotonic() < deadline, "the missing run did not finish"
        time.sleep(1)
    at.run()
    assert at.button(key="sweep_run").disabled                     # nothing left to train
    assert "8 already in the store" in " ".join(m.value for m in at.markdown)
    figs = figures(at)
    results = {c: store.load_result(store.run_id_for(c)) for c in grid_configs()}
    balanced = {t["name"]: t for t in figs["sweep_balanced"]["data"] if t.get("mode") == "lines+markers"}
    assert set(balanced) == {"ce", "balanced_softmax"}
    assert figs["sweep_balanced"]["layout"]["xaxis"]["type"] == "log"
    for method, trace in balanced.items():
        assert trace_values(trace, "x") == [10, 50]
        want = [statistics.fmean(r.balanced_acc for c, r in results.items() if c.method == method and c.ratio == rho)
                for rho in (10, 50)]
        assert trace_values(trace, "y") == pytest.approx(want)
    band = next(t for t in figs["sweep_balanced"]["data"] if t.get("fill") == "toself" and t["legendgroup"] == "ce")
    ce10 = [r.balanced_acc for c, r in results.items() if c.method == "ce" and c.ratio == 10]
    assert max(trace_values(band, "y")) == pytest.approx(statistics.fmean(ce10) + statistics.stdev(ce10))
    gain = figs["sweep_gain"]["data"][0]
    bs50 = statistics.fmean(r.balanced_acc for c, r in results.items()
                            if c.method == "balanced_softmax" and c.ratio == 50)
    ce50 = statistics.fmean(r.balanced_acc for c, r in results.items() if c.method == "ce" and c.ratio == 50)
    assert trace_values(gain, "z")[0][1] == pytest.approx(round(100 * (bs50 - ce50), 2))
    assert "sweep_few" in figs
    assert at.query_params["sw_ratios"] == "10,50"               # the grid stays in the link
