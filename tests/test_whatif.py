"""Instant what-ifs (ltcore.whatif): re-scoring a stored model with post-hoc logit adjustment and
τ-normalisation gives exactly what runs trained with `la_posthoc` / `tau_norm` on the same weights
report — per class, balanced, many/medium/few and the decision regions."""
import os

import numpy as np
import pytest

from ltcore import Config, whatif
from ltcore.inference import decision_grid
from ltcore.runs import RunStore

BASE = dict(dataset="gaussians", ratio=50, epochs=4, batch_size=64)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """ce, la_posthoc (τ = 1.5) and tau_norm (τ = 0.5): same data and seed, so the same weights."""
    from ltcore.runs.execute import execute

    data = tmp_path_factory.mktemp("whatif")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store = RunStore()
        ids = {}
        for name, params in (("ce", ()), ("la_posthoc", (("tau", 1.5),)), ("tau_norm", (("norm_tau", 0.5),))):
            _, run_id = store.claim(Config(**BASE, method=name, method_params=params), os.getpid())
            store.mark_running(run_id, os.getpid())
            execute(store, run_id)
            ids[name] = run_id
        yield store, ids


def test_the_what_if_equals_runs_trained_with_the_same_post_hoc_change(trained):
    store, ids = trained
    out = whatif.prepare(store.config(ids["ce"]), store.load_checkpoint(ids["ce"]))
    for name, knobs in (("ce", {}), ("la_posthoc", {"la_tau": 1.5}), ("tau_norm", {"norm_tau": 0.5})):
        stored = store.load_result(ids[name]).metrics
        got = whatif.evaluate(out, **knobs)
        assert got["per_class_acc"] == stored["per_class_acc"], name
        assert got["balanced_acc"] == pytest.approx(stored["balanced_acc"], abs=1e-12), name
        assert got["shot_acc"] == stored["shot_acc"] and got["pred_counts"] == stored["pred_counts"], name
    moved = whatif.evaluate(out, la_tau=1.5)
    plain = whatif.evaluate(out)
    assert moved["shot_acc"]["few"] > plain["shot_acc"]["few"]      # the adjustment helps the tail here


def test_the_what_if_regions_equal_the_adjusted_runs_decision_grid(trained):
    store, ids = trained
    out = whatif.prepare(store.config(ids["ce"]), store.load_checkpoint(ids["ce"]), grid_steps=120)
    grid = decision_grid(store.config(ids["la_posthoc"]), store.load_checkpoint(ids["la_posthoc"]))
    assert np.array_equal(whatif.evaluate(out, la_tau=1.5)["grid"]["pred"], np.asarray(grid["pred"]))
    assert not np.array_equal(whatif.evaluate(out)["grid"]["pred"], np.asarray(grid["pred"]))


def test_adjusted_logits_is_the_papers_formula():
    import torch

    h, w, b = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4)
    counts = [40, 20, 10, 5]
    prior = torch.tensor(counts, dtype=torch.float32) / 75
    z = whatif.adjusted_logits(h, h @ w.t() + b, w, b, counts, la_tau=0.7, norm_tau=0.3)
    expect = h @ (w / w.norm(dim=1, keepdim=True) ** 0.3).t() - 0.7 * prior.log()  # τ-norm: no bias
    assert torch.allclose(z, expect, atol=1e-6)
