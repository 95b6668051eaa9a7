"""Compare and Geometry pages through AppTest on a store of real tiny runs: every chart's data is
the stored run's numbers."""
import pytest
from apphelpers import decode, figures, page

from app.charts.base import frequency_order


@pytest.fixture
def results(lab_env):
    from ltcore.runs import RunStore

    store = RunStore()
    return {m: store.load_result(rid) for m, rid in lab_env.runs.items()}


def open_page(app, name, run_ids, **query):
    app.query_params.update({"runs": ",".join(run_ids), **query})
    at = app.run()
    at.switch_page(page(name)).run()
    assert not at.exception and not at.error
    return at


@pytest.mark.parametrize("name", ["compare", "geometry"])
def test_pages_render_on_an_empty_store_with_a_way_forward(app, name):
    at = app.run()
    at.switch_page(page(name)).run()
    assert not at.exception and not at.error
    assert "No runs yet" in at.info[0].value


def test_compare_charts_and_table_hold_the_runs_numbers(app, lab_env, results):
    ce, bs = results["ce"], results["balanced_softmax"]
    at = open_page(app, "compare", [lab_env.runs["ce"], lab_env.runs["balanced_softmax"]])
    figs = figures(at)
    assert set(figs) == {"per_class", "shots", "change"}     # only the open tab is drawn
    order = frequency_order(ce.class_counts)
    bars = [t for t in figs["per_class"]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["ce", "balanced_softmax"]
    assert decode(bars[0]["y"]) == [ce.per_class_acc[k] for k in order]
    assert decode(bars[1]["y"]) == [bs.per_class_acc[k] for k in order]
    counts = next(t for t in figs["per_class"]["data"] if t["type"] == "scatter")
    assert decode(counts["y"]) == sorted(ce.class_counts, reverse=True) and counts["yaxis"] == "y2"
    shots = figs["shots"]["data"]
    assert decode(shots[1]["y"]) == [bs.shot_acc[g] for g in ("many", "medium", "few")]
    change = figs["change"]                        # baseline defaults to the ce run, named, in points
    assert decode(change["data"][0]["y"]) == pytest.approx([100 * (bs.per_class_acc[k] - ce.per_class_acc[k])
                                                             for k in order])
    assert "against ce, in percentage points" in change["layout"]["title"]["text"]
    assert "points" in change["layout"]["yaxis"]["title"]["text"]
    at.session_state["compare_tab"] = "Table"
    at.run()
    assert at.query_params["compare_tab"] == "Table" and "per_class" not in figures(at)
    table = at.dataframe[0].value
    assert table["balanced_acc"].tolist() == [ce.balanced_acc, bs.balanced_acc]
    assert table["ece"].tolist() == [ce.ece, bs.ece]
    ref = {m: [lab_env.store.load_result(r).balanced_acc for r in ids] for m, ids in lab_env.references.items()}
    assert ref["ce"][0] == ref["ce"][1]              # plain CE is its own balanced reference: one run
    assert table["relative_acc"].tolist() == pytest.approx(      # A_t / max(A_v, A_b), Zhang et al. §4.1
        [ce.balanced_acc / ref["ce"][0], bs.balanced_acc / max(ref["balanced_softmax"])])
    assert {b.label for b in at.get("download_button")} >= {"CSV", "JSON"}
    at.session_state["compare_tab"] = "Confusion & calibration"
    figs = figures(at.run())
    confusion = figs["confusion"]["data"][0]
    assert decode(confusion["z"]) == [[ce.confusion_matrix_normalized[i][j] for j in order] for i in order]
    reliability = figs["reliability"]["data"][1]
    assert decode(reliability["y"]) == [a for a, n in zip(ce.reliability["accuracy"], ce.reliability["count"]) if n]
    at.session_state["compare_tab"] = "Decision regions"
    regions = figures(at.run())["regions"]["data"]   # gaussians are 2-D: decision regions side by side
    assert sum(t["type"] == "heatmap" for t in regions) == 2
    assert len(decode(regions[0]["z"])) == 120


def test_compare_interactions_change_the_view(app, lab_env, results):
    ids = [lab_env.runs["ce"], lab_env.runs["balanced_softmax"], lab_env.runs["tau_norm"]]
    at = open_page(app, "compare", ids)
    at.selectbox(key="baseline").set_value(ids[1]).run()
    change = figures(at)["change"]["data"]
    ce, bs = results["ce"], results["balanced_softmax"]
    order = frequency_order(ce.class_counts)
    assert decode(change[0]["y"]) == pytest.approx([100 * (ce.per_class_acc[k] - bs.per_class_acc[k]) for k in order])
    assert at.query_params["baseline"] == ids[1]
    at.session_state["compare_tab"] = "τ-norm"
    tau = figures(at.run())["tau"]["data"][0]       # only the τ-norm run has a τ sweep
    curve = results["tau_norm"].extras["tau_curve"]
    assert decode(tau["x"]) == [c[0] for c in curve] and decode(tau["y"]) == [c[1] for c in curve]
    at.session_state["compare_tab"] = "Table"
    at.run()
    assert any(b.label == "Train the 1 balanced reference run(s)" for b in at.button)   # τ-norm's own
    at.session_state["compare_tab"] = "Accuracy"
    at.multiselect(key="runs").set_value(ids[:1]).run()
    assert at.query_params["runs"] == ids[0] and "change" not in figures(at) and "per_class" in figures(at)


def test_geometry_charts_hold_the_runs_neural_collapse_numbers(app, lab_env, results):
    ce = results["ce"]
    at = open_page(app, "geometry", [lab_env.runs["ce"], lab_env.runs["balanced_softmax"]])
    figs = figures(at)
    nc1 = figs["nc_history"]["data"][0]
    history = ce.extras["nc_history"]
    assert decode(nc1["x"]) == [1, 2, 3, 4]
    assert decode(nc1["y"]) == [row["nc1"] for row in history]
    assert figs["nc_history"]["layout"]["yaxis"]["type"] == "log"
    assert "features" not in figs                      # only the open tab is drawn
    at.session_state["geometry_tab"] = "Norms & cosines"
    figs = figures(at.run())
    order = frequency_order(ce.class_counts)
    means, weights, etf = figs["cosines"]["data"]
    cos = ce.extras["neural_collapse"]["mean_cosine"]
    assert decode(means["z"]) == [[cos[i][j] for j in order] for i in order]
    assert decode(etf["z"])[0] == [1.0, -0.25, -0.25, -0.25, -0.25]   # K = 5: off-diagonal −1/(K−1)
    norms = figs["norms"]["data"]
    assert decode(norms[2]["y"]) == ce.extras["minority_collapse"]["weight_norms_sorted"]
    at.session_state["geometry_tab"] = "Feature scatter"
    features = figures(at.run())["features"]
    assert at.query_params["geometry_tab"] == "Feature scatter"
    assert [f["name"] for f in features["frames"]] == ["1", "2", "3", "4"]   # one frame per snapshot
    assert len(features["layout"]["sliders"][0]["steps"]) == 4


def test_geometry_interactions_change_the_view(app, lab_env, results):
    at = open_page(app, "geometry", [lab_env.runs["ce"], lab_env.runs["balanced_softmax"]],
                   geometry_tab="Norms & cosines")
    at.selectbox(key="geometry_run").set_value(lab_env.runs["balanced_softmax"]).run()
    norms = figures(at)["norms"]["data"]
    assert decode(norms[2]["y"]) == results["balanced_softmax"].extras["minority_collapse"]["weight_norms_sorted"]
    at.session_state["geometry_tab"] = "Feature scatter"
    at.run()
    at.radio(key="geometry_dim").set_value(3).run()
    assert figures(at)["features"]["data"][0]["type"] == "scatter3d"


def test_geometry_draws_one_neural_collapse_measure_at_a_time_or_all_four_on_request(app, lab_env, results):
    at = open_page(app, "geometry", [lab_env.runs["ce"], lab_env.runs["balanced_softmax"]])
    nc = figures(at)["nc_history"]
    assert [a["text"] for a in nc["layout"]["annotations"]][:1] == ["NC1: within-class variability Tr(Σ_W Σ_B⁺)/K"]
    assert {t.get("yaxis", "y") for t in nc["data"]} == {"y"} and len(nc["data"]) == 2    # one panel, a line a run
    assert not any("NC_PANELS" in m.value for m in at.markdown)    # no stray docstring drawn as text
    at.segmented_control(key="geometry_nc").set_value("NC2").run()
    nc = figures(at)["nc_history"]
    history = results["ce"].extras["nc_history"]
    assert decode(nc["data"][1]["y"]) == [row["nc2_equiangular"] for row in history]    # ce's thin line
    assert at.query_params["geometry_nc"] == "NC2"
    at.segmented_control(key="geometry_nc").set_value("all").run()
    nc = figures(at)["nc_history"]
    assert {t.get("yaxis", "y") for t in nc["data"]} == {"y", "y2", "y3", "y4"}
