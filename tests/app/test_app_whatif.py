"""The τ sliders of Compare (issue 14, instant what-ifs): their numbers equal the stored results of
runs trained with the same post-hoc change on the same weights (`la_posthoc`, `tau_norm`)."""

import pytest
from apphelpers import decode, figures, page

from app.charts.base import frequency_order
from ltcore import Config

BASE = dict(dataset="gaussians", ratio=50, epochs=3, batch_size=64)


@pytest.fixture(scope="module")
def whatif_store(trained_store):
    methods = (("ce", ()), ("la_posthoc", (("tau", 1.0),)), ("tau_norm", (("norm_tau", 0.5),)))
    data, store, ids = trained_store("whatif_app", [Config(**BASE, method=m, method_params=p) for m, p in methods])
    return data, store, dict(zip((m for m, _ in methods), ids))


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


def test_post_hoc_tau_is_in_the_link_and_a_prior_corrected_run_gets_a_hint(app, whatif_store, monkeypatch):
    """Issue 22, item 5: the τ slider's value is in the URL (a link brings it back), and applying
    post-hoc τ to a run that already corrects the prior (`la_posthoc` here) says it corrects twice."""
    data, store, ids = whatif_store
    monkeypatch.setenv("LTLAB_DATA", str(data))
    app.query_params.update({"runs": f"{ids['ce']},{ids['la_posthoc']}", "compare_tab": "What if τ…",
                             "compare_whatif_la_tau": "0.5"})
    at = app.run()
    at.switch_page(page("compare")).run()
    assert not at.exception and at.slider(key="compare_whatif_la_tau").value == 0.5
    hints = [i.value for i in at.info if "second time" in i.value]
    assert len(hints) == 1 and hints[0].startswith("la_posthoc")
    at.slider(key="compare_whatif_la_tau").set_value(1.0).run()
    assert at.query_params["compare_whatif_la_tau"] == "1"
    at.slider(key="compare_whatif_la_tau").set_value(0.0).run()
    assert not [i for i in at.info if "second time" in i.value] and "compare_whatif_la_tau" not in at.query_params
    assert "$" in at.slider(key="compare_whatif_la_tau").label            # the formula is rendered as math
