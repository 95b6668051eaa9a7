"""Registry-driven checks: every preset trains on digits-LT, every entry is described, overrides
and bad combinations are handled, and the generated docs tables are in sync with the registries."""
import math
from pathlib import Path

import pytest
import torch

from ltcore import Config, Trainer, train
from ltcore.errors import ConfigError, UnknownNameError
from ltcore.methods import PRESETS, SLOTS, build_method, check_params, resolve_params
from ltcore.methods.listing import DOCUMENTS, GENERATED, render_generated

REQUIRED = ["ce", "focal", "cb_focal", "ros", "rus", "cbs", "ldam_drw", "ce_drw", "la_posthoc", "la_loss",
            "balanced_softmax", "mixup", "remix_drw", "crt", "tau_norm", "lws", "ncm", "etf_dr", "nc_reg",
            "sade"]


def test_the_required_presets_exist():
    assert set(REQUIRED) <= set(PRESETS.names())


@pytest.fixture(scope="module")
def donor(tmp_path_factory):
    """A state dict file for the `transfer` preset (a fresh digits CNN)."""
    from ltcore.models import build_model

    path = tmp_path_factory.mktemp("donor") / "donor.pt"
    torch.save(build_model("cnn", (1, 8, 8), 10).state_dict(), path)
    return str(path)


@pytest.mark.parametrize("name", PRESETS.names())
def test_every_preset_trains_two_epochs_on_digits_lt(name, digits, quick, donor):
    params = {needed: donor for needed in PRESETS.get(name).meta.get("requires", ())}  # a file / a teacher
    result = train(Config(**quick, method=name, method_params=params), data=digits)
    assert result.status == "done", result.error
    assert len(result.history) == 2 and all(math.isfinite(h["loss"]) for h in result.history)
    assert all(math.isfinite(a) for a in result.per_class_acc)
    assert 0 <= result.balanced_acc <= 1
    assert result.extras["method_slots"] == {**PRESETS.get(name).meta["slots"]}


@pytest.mark.parametrize("registry", [PRESETS, *SLOTS.values()], ids=lambda r: r.kind)
def test_every_entry_has_a_description_and_a_reference(registry):
    for entry in registry.entries():
        assert entry.description and entry.meta.get("paper"), entry.name
        for name in entry.meta.get("params", {}):
            assert name == name.lower() and " " not in name


def test_every_parameter_has_a_typed_spec_for_the_cli_and_ui():
    from ltcore.methods import PARAMS
    from ltcore.methods.compose import COMMON

    names = set(COMMON) | set(SLOTS)
    for registry in [PRESETS, *SLOTS.values()]:
        for entry in registry.entries():
            names |= set(entry.meta.get("params", {}))
    assert names <= set(PARAMS), names - set(PARAMS)
    assert all(PARAMS[n].help for n in names)


def test_presets_carry_family_and_full_slot_choice():
    for entry in PRESETS.entries():
        assert entry.meta["family"] and set(entry.meta["slots"]) == set(SLOTS)


def test_slot_override_brings_its_own_hyper_parameters():
    check_params("ce", {"loss": "focal", "gamma": 2.0, "sampler": "sqrt"})
    merged = resolve_params("ldam_drw", {"drw_epoch": 20})
    assert merged["drw_epoch"] == 20 and merged["loss"] == "ldam" and merged["scale"] == 30.0
    method = build_method("ce", {"loss": "focal", "gamma": 2.0}, [50, 5], 10, torch.device("cpu"))
    assert method.loss.gamma == 2.0


def test_drw_epoch_defaults_to_eighty_percent_of_the_run():
    method = build_method("ldam_drw", {}, [50, 5], 200, torch.device("cpu"))
    assert method.reweight.start == 160
    z, y = torch.tensor([[0.3, -0.2], [0.1, 0.4]]), torch.tensor([0, 1])
    plain = build_method("ldam", {}, [50, 5], 200, torch.device("cpu")).loss(z, y)
    method.on_epoch_start(159)
    assert torch.equal(method.loss(z, y), plain)  # DRW before its epoch = the base loss
    method.on_epoch_start(160)
    assert not torch.allclose(method.loss(z, y), plain)
    # β = 0.9999: 1e-4/(1 − β^50) = 0.020049, 1e-4/(1 − β^5) = 0.200040 → ×2/Σ
    assert method.loss.weight.tolist() == pytest.approx([0.182190, 1.817810], abs=1e-5)


@pytest.mark.parametrize("params,match", [
    ({"gamma": 2.0}, "no parameter"),
    ({"loss": "nope"}, "choose one of"),
    ({"loss": "ldam", "classifier": "cosine"}, "normed"),
    ({"loss": "sade"}, "experts"),
    ({"classifier": "experts"}, "sade"),
    ({"regularizer": "nc", "mixing": "mixup"}, "un-mixed"),
    ({"stage2": "tau_norm", "classifier": "cosine"}, "linear classifier"),
    ({"holdout": 1.5}, "holdout must be in"),
    ({"init_from": 3}, "name/text"),
])
def test_bad_parameters_are_config_errors_that_say_what_to_change(params, match):
    with pytest.raises(ConfigError, match=match):
        Config(method="ce", method_params=params).validate()


def test_unknown_preset_lists_the_choices():
    with pytest.raises(UnknownNameError, match="ldam_drw"):
        Config(method="ldamdrw").validate()


def test_mixup_trains_on_mixed_pairs(digits, quick):
    trainer = Trainer(Config(**quick, method="mixup"), data=digits)
    x, y = next(trainer.train_batches.batches(torch.arange(8), 8))
    seen = {}
    trainer.model.backbone.register_forward_pre_hook(lambda m, i: seen.update(x=i[0]))
    trainer.method.training_loss(trainer.model, x, y, 0)
    assert not torch.equal(seen["x"], x)  # the network sees x̃ = λx + (1 − λ)x_perm, not x


def test_generated_parts_of_the_readme_and_docs_are_in_sync_with_the_registries():
    root = Path(__file__).resolve().parents[2]
    texts = {name: (root / name).read_text() for name in DOCUMENTS}
    for part in GENERATED:
        assert any(f"<!-- generated:{part} -->" in text for text in texts.values()), part
    for name, text in texts.items():
        assert render_generated(text) == text, f"{name} is out of date: run python -m ltcore.methods.listing"


def test_generated_parts_are_rewritten_between_their_markers_only():
    text = ("We ship <!-- generated:preset-count -->3<!-- /generated:preset-count --> presets.\n"
            "<!-- generated:params-table -->\nstale rows\n<!-- /generated:params-table -->\nkept\n")
    out = render_generated(text)
    assert out.startswith(f"We ship <!-- generated:preset-count -->{len(PRESETS)}<!-- /generated:preset-count")
    assert "| `gamma` | float | ≥ 0 |" in out and "stale rows" not in out and out.endswith("\nkept\n")
    assert render_generated(out) == out
    with pytest.raises(ValueError, match="unknown generated part"):
        render_generated("<!-- generated:nope -->x<!-- /generated:nope -->")
