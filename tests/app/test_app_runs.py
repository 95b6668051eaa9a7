"""Researchers' views through AppTest on a store of real tiny runs (two methods × two seeds):
seeds as error bars, the Curves tab, the run table (filter, show/hide, tag, delete with
confirmation; on a shared server only this session's runs), the Train view's controls."""
import statistics

import pytest
from scipy import stats
from apphelpers import decode, figures, page, train_into

from app.logic import memo as shared
from app.charts.base import frequency_order
from app.ui import runs_table

METHODS = ("ce", "balanced_softmax")


@pytest.fixture(scope="module")
def seeds_lab(tmp_path_factory):
    """gaussians ρ20, 2 epochs: ce and balanced_softmax over seeds 0 and 1, trained in-process
    (neural collapse measured after each epoch)."""
    from app.logic.state import geometry_schedule
    from ltcore import Config
    from ltcore.runs import RunStore

    data = tmp_path_factory.mktemp("seeds")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store = RunStore()
        runs = {(m, s): train_into(store, Config(dataset="gaussians", ratio=20, method=m, seed=s, epochs=2,
                                                 batch_size=128, **geometry_schedule(2)))
                for m in METHODS for s in (0, 1)}
    return data, store, runs


@pytest.fixture
def lab(seeds_lab, monkeypatch):
    data, store, runs = seeds_lab
    monkeypatch.setenv("LTLAB_DATA", str(data))
    monkeypatch.delenv("LTLAB_SHARED", raising=False)
    return store, runs


def open_compare(app, run_ids, **query):
    app.query_params.update({"runs": ",".join(run_ids), **query})
    at = app.run()
    at.switch_page(page("compare")).run()
    assert not at.exception and not at.error
    return at


def test_seed_groups_show_mean_and_std_and_the_switch_shows_single_seeds(app, lab):
    store, runs = lab
    at = open_compare(app, list(runs.values()))
    results = {k: store.load_result(rid) for k, rid in runs.items()}
    ce = [results["ce", s] for s in (0, 1)]
    order = frequency_order(ce[0].class_counts)
    bars = [t for t in figures(at)["per_class"]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["ce · 2 seeds", "balanced_softmax · 2 seeds"]
    assert decode(bars[0]["y"]) == pytest.approx([statistics.fmean(r.per_class_acc[k] for r in ce) for k in order])
    assert decode(bars[0]["error_y"]["array"]) == pytest.approx(
        [statistics.stdev(r.per_class_acc[k] for r in ce) for k in order])
    few = figures(at)["shots"]["data"][0]
    assert decode(few["error_y"]["array"])[0] == pytest.approx(statistics.stdev(r.shot_acc["many"] for r in ce))
    change = figures(at)["change"]                      # against ce: mean change, 95 % paired t interval
    bs = [results["balanced_softmax", s] for s in (0, 1)]
    (bar,) = [t for t in change["data"] if t["type"] == "bar"]
    assert bar["name"] == "balanced_softmax · 2 seeds" and "ce · 2 seeds" in change["layout"]["title"]["text"]
    assert decode(bar["y"]) == pytest.approx([100 * (statistics.fmean(r.per_class_acc[k] for r in bs)
                                                     - statistics.fmean(r.per_class_acc[k] for r in ce))
                                              for k in order])
    t = stats.t.ppf(0.975, 1) / 2 ** 0.5
    assert decode(bar["error_y"]["array"]) == pytest.approx(
        [t * statistics.stdev(100 * (b.per_class_acc[k] - c.per_class_acc[k]) for b, c in zip(bs, ce)) for k in order])
    at.session_state["compare_tab"] = "Table"
    at.run()
    table = at.dataframe[0].value
    assert table["n"].tolist() == [2, 2] and table["seeds"].tolist() == ["0, 1", "0, 1"]
    assert table["balanced_acc"][0] == pytest.approx(statistics.fmean(r.balanced_acc for r in ce))
    assert table["± balanced_acc"][0] == pytest.approx(statistics.stdev(r.balanced_acc for r in ce))
    at.toggle(key="seed_groups").set_value(False).run()
    assert at.query_params["seed_groups"] == "0"
    assert len(at.dataframe[0].value) == 4 and "relative_acc" in at.dataframe[0].value


def test_curves_tab_overlays_smoothed_curves_on_a_log_axis_train_vs_test_and_the_class_epoch_heatmap(app, lab):
    store, runs = lab
    ids = [runs["ce", 0], runs["balanced_softmax", 0]]
    at = open_compare(app, ids, compare_tab="Curves")
    history = store.history(ids[0])
    figs = figures(at)
    assert decode(figs["curves"]["data"][0]["y"]) == pytest.approx([row["balanced_acc"] for row in history])
    train_test = figs["train_test"]["data"]
    assert decode(train_test[0]["y"]) == pytest.approx([row["train_acc"] for row in history])
    assert decode(train_test[1]["y"]) == pytest.approx([row["test_acc"] for row in history])
    heat = figs["class_epochs"]["data"][0]
    result = store.load_result(ids[0])
    order = frequency_order(result.class_counts)
    assert decode(heat["x"]) == [1, 2]
    assert decode(heat["z"]) == [[row["per_class_acc"][k] for row in history] for k in order]
    at.selectbox(key="curves_metric").set_value("loss").run()
    at.slider(key="curves_smooth").set_value(0.5).run()
    at.toggle(key="curves_log").set_value(True).run()
    curves = figures(at)["curves"]
    raw, smooth = curves["data"][0], curves["data"][1]      # faint raw line behind the smoothed one
    losses = [row["loss"] for row in history]
    assert decode(raw["y"]) == pytest.approx(losses)
    assert decode(smooth["y"]) == pytest.approx([losses[0], (0.25 * losses[0] + 0.5 * losses[1]) / 0.75])
    assert curves["layout"]["yaxis"]["type"] == "log"
    assert at.query_params["curves_log"] == "1" and at.query_params["compare_tab"] == "Curves"


def rows_of(at):
    return at.dataframe[0].value


def select(at, positions):
    key = runs_table.selection_key(at.session_state)
    at.session_state[key] = {"selection": {"rows": positions, "columns": [], "cells": []}}
    return at.run()


def open_table(app, run_ids):
    at = open_compare(app, run_ids)
    at.session_state["runs_manage"] = True
    at.run()
    assert not at.exception
    return at


def test_run_table_filters_shows_hides_and_tags_runs_in_the_store(app, lab):
    store, runs = lab
    at = open_table(app, [runs["ce", 0]])
    table = rows_of(at)
    assert len(table) == 4 and table["shown"].tolist().count(True) == 1
    at.multiselect(key="runs_table_method").set_value(["balanced_softmax"]).run()
    table = rows_of(at)
    assert set(table["method"]) == {"balanced_softmax"} and len(table) == 2
    select(at, [0, 1])
    next(b for b in at.button if b.label == "Show").click().run()
    assert set(at.session_state["runs"]) == {runs["ce", 0], runs["balanced_softmax", 0], runs["balanced_softmax", 1]}
    assert "0 selected" in " ".join(c.value for c in at.caption)     # an action clears the selection
    select(at, [0, 1])
    at.text_input(key="runs_table_tag").set_value("paper-fig").run()
    next(b for b in at.button if b.label == "Add tag").click().run()
    at.run()                                # AppTest does not follow the fragment's own rerun
    assert "0 selected" in " ".join(c.value for c in at.caption)
    assert store.tags(runs["balanced_softmax", 1]) == ["paper-fig"] and store.tags(runs["ce", 0]) == []
    at.multiselect(key="runs_table_method").set_value([]).run()
    at.multiselect(key="runs_table_tags").set_value(["paper-fig"]).run()
    assert len(rows_of(at)) == 2 and set(rows_of(at)["tags"]) == {"paper-fig"}
    select(at, [0])
    next(b for b in at.button if b.label == "Remove tag").click().run()
    select(at, [0])
    next(b for b in at.button if b.label == "Hide").click().run()
    assert len(at.session_state["runs"]) == 2
    store.tag([runs["balanced_softmax", 0], runs["balanced_softmax", 1]], "paper-fig", remove=True)


def test_delete_asks_first_and_on_a_shared_server_only_this_sessions_runs(app, lab, monkeypatch):
    from ltcore import Config

    store, runs = lab
    extra = train_into(store, Config(dataset="gaussians", ratio=20, method="ce", seed=7, epochs=1, batch_size=128))
    shared.clear_all()    # the run list is memoised for 1 s per process; this run was stored behind its back
    monkeypatch.setenv("LTLAB_SHARED", "1")
    at = open_table(app, [extra])
    position = rows_of(at)["run_id"].tolist().index(extra)
    select(at, [position])
    assert next(b for b in at.button if b.label.startswith("Delete")).disabled    # trained by someone else
    assert any("started by someone else" in c.value for c in at.caption)
    at.session_state["_started_runs"] = {extra}        # as if this session had queued it
    select(at, [position])
    next(b for b in at.button if b.label == "Delete 1 run…").click().run()
    assert "Undo" in at.warning[0].value and store.get(extra) is not None   # nothing deleted yet
    assert "ce · gaussians · ρ20 · seed 7 · " + extra[:12] in at.warning[0].value   # the run is named
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    assert extra not in at.session_state["runs"] and extra not in rows_of(at)["run_id"].tolist()
    assert store.get(extra) is not None and len(rows_of(at)) == 4   # in this session's bin: Undo can bring it back
    assert "0 selected" in " ".join(c.value for c in at.caption)
    next(b for b in at.button if b.label == "Delete for good now").click().run()
    assert store.get(extra) is None and len(rows_of(at)) == 4


def test_train_view_is_one_banded_line_per_multi_seed_config_clears_and_opens_on_compare(app, lab):
    store, runs = lab
    ids = [runs["ce", 0], runs["ce", 1]]
    app.query_params["runs"] = ",".join(ids)
    at = app.run()
    at.switch_page(page("train")).run()
    assert not at.exception
    curves = figures(at)["monitor_curves"]["data"]
    band, line = curves[0], curves[1]
    assert band["fill"] == "toself" and "2 seeds, mean ± std" in line["name"]
    losses = [[row["loss"] for row in store.history(r)] for r in ids]
    assert decode(line["y"]) == pytest.approx([statistics.fmean(v) for v in zip(*losses)])
    next(b for b in at.button if b.label == "Open on Compare").click().run()
    assert at.session_state["runs"] == ids and not at.exception
    at.switch_page(page("train")).run()
    next(b for b in at.button if b.label == "Clear view").click().run()
    assert at.session_state["runs"] == [] and "runs" not in at.query_params


def test_log_toggle_and_geometry_choices_live_in_the_url(app, lab):
    store, runs = lab
    ids = [runs["ce", 0], runs["balanced_softmax", 0]]
    app.query_params.update({"data_log": "1", "runs": ",".join(ids), "geometry_run": ids[1], "geometry_dim": "3",
                             "geometry_tab": "Feature scatter"})
    at = app.run()
    assert figures(at)["histogram"]["layout"]["yaxis"]["type"] == "log"
    at.switch_page(page("geometry")).run()
    assert not at.exception and at.selectbox(key="geometry_run").value == ids[1]
    assert figures(at)["features"]["data"][0]["type"] == "scatter3d"
    at.selectbox(key="geometry_run").set_value(ids[0]).run()
    at.radio(key="geometry_dim").set_value(2).run()
    assert at.query_params["geometry_run"] == ids[0] and "geometry_dim" not in at.query_params
    assert at.query_params["data_log"] == "1"


def test_reliability_and_what_if_draw_one_entry_per_configuration_with_the_seed_switch(app, lab):
    """Issue 22, item 3: 2 methods × 2 seeds are two reliability lines (mean ± std bands, two
    colours) and two what-if bar series, not four; with the switch off, four single seeds."""
    store, runs = lab
    at = open_compare(app, list(runs.values()), compare_tab="Confusion & calibration")
    lines = [t for t in figures(at)["reliability"]["data"][1:] if t.get("fill") != "toself"]
    bands = [t for t in figures(at)["reliability"]["data"] if t.get("fill") == "toself"]
    assert [t["name"].split(" (ECE")[0] for t in lines] == ["ce · 2 seeds", "balanced_softmax · 2 seeds"]
    assert len(bands) == 2 and len({t["line"]["color"] for t in lines}) == 2
    assert "± " in lines[0]["name"]                                     # ECE mean ± std over the seeds
    at.toggle(key="seed_groups").set_value(False).run()
    lines = [t for t in figures(at)["reliability"]["data"][1:] if t.get("fill") != "toself"]
    assert len(lines) == 4 and len({t["line"]["color"] for t in lines}) == 4
    at.toggle(key="seed_groups").set_value(True).run()
    at.session_state["compare_tab"] = "What if τ…"
    at.run()
    bars = [t for t in figures(at)["compare_whatif_per_class"]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["ce · 2 seeds", "balanced_softmax · 2 seeds"]
    assert bars[0]["error_y"]["visible"]


def test_geometry_all_four_nc_draws_one_band_and_line_per_configuration(app, lab):
    """Issue 22, item 3: Geometry's "all four" drew one line per seed (16 in NC2 for 3 × 3 runs)."""
    store, runs = lab
    app.query_params.update({"runs": ",".join(runs.values()), "geometry_nc": "all"})
    at = app.run()
    at.switch_page(page("geometry")).run()
    assert not at.exception
    traces = figures(at)["nc_history"]["data"]
    lines = [t for t in traces if t.get("fill") != "toself" and t.get("showlegend")]
    assert [t["name"] for t in lines] == ["ce · 2 seeds", "balanced_softmax · 2 seeds"]
    assert sum(t.get("fill") == "toself" for t in traces) >= 2       # ± one std over the seeds (NC1 at least)
    nc1 = [statistics.fmean(h["nc1"] for h in store.load_result(runs["ce", s]).extras["nc_history"]
                            if h["epoch"] == 2) for s in (0, 1)]
    assert decode(lines[0]["customdata"])[-1] == pytest.approx(statistics.fmean(nc1))
