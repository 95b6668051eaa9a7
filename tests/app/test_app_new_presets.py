"""The representation-learning, transfer and augmentation presets of issue 13 reach the dashboard
through the registry alone: the Train page offers them with every slot and parameter they take
(an edited value goes into the link and the run's config), and their finished runs show on the
Compare page beside plain cross-entropy."""
import json

import pytest
from apphelpers import figures, page, train_into

from ltcore import Config
from ltcore.methods import PRESETS, resolve_params
from ltcore.methods.registries import SLOTS

# Issue 13's presets; those another helper has not landed yet are simply not in the registry.
NEW = [m for m in ("bcl", "kcl", "paco", "ssp", "cmo", "kd", "bkd", "crest") if m in PRESETS]


def test_issue_13_presets_are_registered():
    assert {"bcl", "kcl", "paco", "ssp", "cmo"} <= set(NEW)


def test_train_page_offers_the_new_presets_with_every_slot_and_parameter(app, tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    app.query_params.update({"dataset": "digits", "methods": ",".join(NEW)})
    at = app.run()
    at.switch_page(page("train")).run()
    assert not at.exception
    assert set(NEW) <= set(at.multiselect(key="methods").options)
    assert not any(w.key and w.key.startswith("param_") for w in at.selectbox)   # closed editors: no widgets
    for method in NEW:                                # the editors are built when opened
        at.session_state[f"edit_{method}"] = True
    at.run()
    titles = [e.label for e in at.expander]
    keys = {w.key for kind in ("selectbox", "number_input", "checkbox", "text_input") for w in at.get(kind)}
    for method in NEW:
        assert f"Advanced: {method} slots and parameters" in titles, method
        for name in resolve_params(method, {}, required=False):   # slots and hyper-parameters alike
            wanted = {f"param_{method}_{name}", f"param_{method}_{name}_auto"}
            assert wanted & keys, (method, name)
        slot_boxes = [s for s in at.selectbox if s.key and s.key.startswith(f"param_{method}_")
                      and s.key.removeprefix(f"param_{method}_") in SLOTS]
        assert slot_boxes and all(s.options for s in slot_boxes), method

    at.number_input(key="param_bcl_bcl_temperature").set_value(0.2).run()
    assert not at.exception
    assert at.session_state["params"]["bcl"] == {"bcl_temperature": 0.2}      # what the configs get
    at.session_state["edit_bcl"] = False                                       # closed: the change stays
    at.run()
    assert at.session_state["params"]["bcl"] == {"bcl_temperature": 0.2}
    assert not any(w.key == "param_bcl_bcl_temperature" for w in at.number_input)
    assert any("bcl_temperature = 0.2" in c.value for c in at.caption)
    at.session_state["edit_bcl"] = True
    at.run()
    teacherless = [m for m in NEW if "kd_teacher" in resolve_params(m, {}, required=False)]
    if teacherless:                                   # kd/bkd say what they need, nothing is trained
        assert any("needs kd_teacher" in e.value for e in at.error)
    else:                                             # every preset's config is valid on digits (8×8 images)
        assert any(b.label == f"Train {len(NEW)} runs" for b in at.button), [b.label for b in at.button]


@pytest.fixture(scope="module")
def new_runs(trained_store):
    """One-epoch gaussians runs of plain CE and BCL (two views of vectors, a projection head)."""
    methods = ("ce", "bcl")
    data, _, ids = trained_store("newpresets", [Config(dataset="gaussians", ratio=20, method=m, epochs=1,
                                                       batch_size=64) for m in methods])
    return data, dict(zip(methods, ids))


@pytest.mark.skipif("kd" not in PRESETS, reason="kd not landed")
def test_the_teacher_of_kd_and_bkd_is_chosen_from_the_stores_finished_runs(app, new_runs, monkeypatch):
    data, runs = new_runs
    monkeypatch.setenv("LTLAB_DATA", str(data))
    app.query_params.update({"dataset": "gaussians", "ratio": "20", "methods": "kd,bkd"})
    at = app.run()
    at.switch_page(page("train")).run()
    at.session_state["edit_kd"] = at.session_state["edit_bkd"] = True
    at.run()
    assert not at.exception
    box = at.selectbox(key="param_kd_kd_teacher")
    assert all(any(rid in option for option in box.options) for rid in runs.values()), box.options  # ce, bcl
    assert not any(b.label == "Train 2 runs" for b in at.button)
    box.set_value(runs["ce"]).run()
    at.selectbox(key="param_bkd_kd_teacher").set_value(runs["ce"]).run()
    assert not at.exception and not [e.value for e in at.error]
    params = json.loads(at.query_params["params"])
    assert params["kd"] == params["bkd"] == {"kd_teacher": runs["ce"]}
    assert any(b.label == "Train 2 runs" for b in at.button), [b.label for b in at.button]


def test_compare_page_shows_the_new_presets_runs_beside_ce(app, new_runs, monkeypatch):
    data, runs = new_runs
    monkeypatch.setenv("LTLAB_DATA", str(data))
    app.query_params["runs"] = ",".join(runs.values())
    at = app.run()
    at.switch_page(page("compare")).run()
    assert not at.exception and not at.error
    per_class = figures(at)["per_class"]
    names = [trace["name"] for trace in per_class["data"]]
    for method in runs:
        assert any(method in name for name in names), (method, names)


def test_compare_table_shows_crest_pseudo_labels_per_generation(app, tmp_path, monkeypatch):
    """A CReST run's self-training record: per generation, the pseudo-labels per class it trained on."""
    from ltcore.runs import RunStore

    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    rid = train_into(RunStore(), Config(dataset="gaussians", ratio=20, method="crest", epochs=1, batch_size=64,
                                        method_params={"crest_generations": 2}))
    app.query_params["runs"] = rid
    at = app.run()
    at.switch_page(page("compare")).run()
    at.session_state["compare_tab"] = "Table"
    at.run()
    assert not at.exception and not at.error
    crest = next(df.value for df in at.dataframe if "generation" in df.value.columns)
    assert crest["generation"].tolist() == [1, 2]
    assert crest["pseudo_labels"].tolist()[0] == 0 and crest["pseudo_labels"].tolist()[1] > 0
    classes = [c for c in crest.columns if c.startswith("class ")]
    assert len(classes) == 5 and crest.iloc[1][classes].sum() == crest["pseudo_labels"].iloc[1]
