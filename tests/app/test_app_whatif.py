"""The τ sliders of Compare (issue 14, instant what-ifs): their numbers equal the stored results of
runs trained with the same post-hoc change on the same weights (`la_posthoc`, `tau_norm`)."""
import os

import pytest
from apphelpers import decode, figures, page

from app.charts.base import frequency_order
from ltcore import Config

BASE = dict(dataset="gaussians", ratio=50, epochs=3, batch_size=64)


@pytest.fixture(scope="module")
def whatif_store(tmp_path_factory):
    from ltcore.runs import RunStore
    from ltcore.runs.execute import execute

    data = tmp_path_factory.mktemp("whatif_app")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store, ids = RunStore(), {}
        for name, params in (("ce", ()), ("la_posthoc", (("tau", 1.0),)), ("tau_norm", (("norm_tau", 0.5),))):
            _, run_id = store.claim(Config(**BASE, method=name, method_params=params), os.getpid())
            store.mark_running(run_id, os.getpid())
            execute(store, run_id)
            ids[name] = run_id
    return data, store, ids


def whatif_table(at):
    return next(d.value for d in at.dataframe if "Δ balanced (points)" in d.value.columns)


def test_the_compare_sliders_rescore_a_run_as_a_post_hoc_run_would(app, whatif_store, monkeypatch):
    data, store, ids = whatif_store
    monkeypatch.setenv("LTLAB_DATA", str(data))
    app.query_params.update({"runs": ids["ce"], "compare_tab": "What if τ…"})   # only the open tab is drawn
    at = app.run()
    at.switch_page(page("compare")).run()
    assert not at.exception
    table = whatif_table(at)
    assert table.loc[0, "balanced_acc"] == pytest.approx(store.load_result(ids["ce"]).balanced_acc, abs=1e-12)
    for knobs, name in (({"la": 1.0, "norm": 0.0}, "la_posthoc"), ({"la": 0.0, "norm": 0.5}, "tau_norm")):
        at.slider(key="compare_whatif_la_tau").set_value(knobs["la"]).run()
        at.slider(key="compare_whatif_norm_tau").set_value(knobs["norm"]).run()
        stored = store.load_result(ids[name])
        table = whatif_table(at)
        assert table.loc[0, "balanced_acc"] == pytest.approx(stored.balanced_acc, abs=1e-12), name
        for g in ("many", "medium", "few"):
            assert table.loc[0, f"{g}_acc"] == pytest.approx(stored.shot_acc[g], abs=1e-12), (name, g)
        bars = figures(at)["compare_whatif_per_class"]["data"][0]
        order = frequency_order(stored.class_counts)
        assert decode(bars["y"]) == pytest.approx([stored.per_class_acc[k] for k in order], abs=1e-12), name
        assert "compare_whatif_regions" in figures(at)             # 2-D data: the regions move too
