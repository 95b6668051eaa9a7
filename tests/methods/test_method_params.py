"""Parameter specs live next to their slot entries; one flat namespace without silent collisions."""
import pytest

from ltcore.errors import ConfigError
from ltcore.methods import PARAMS, SLOTS, check_params
from ltcore.methods.losses import GAMMA
from ltcore.methods.presets import FAMILIES, preset
from ltcore.methods.registries import SlotRegistry, number, reject_unknown


def test_every_slot_entry_declares_a_spec_whose_default_is_its_parameter_default():
    for registry in SLOTS.values():
        for entry in registry.entries():
            specs = entry.meta["specs"]
            assert entry.meta["params"] == {k: s.default for k, s in specs.items()}, entry.name
            for name, spec in specs.items():
                assert PARAMS[name].help == spec.help and PARAMS[name].kind == spec.kind


def test_a_name_reused_with_another_meaning_is_refused_at_registration():
    registry = SlotRegistry("test slot")
    with pytest.raises(ValueError, match="gamma.*another meaning"):
        registry.add("other", object, "x", paper="—",
                     params={"gamma": number(2.0, "some other γ", lambda v: v > 0, "> 0")})
    with pytest.raises(TypeError, match="Param spec"):
        registry.add("plain", object, "x", paper="—", params={"gamma": 2.0})
    registry.add("focal2", object, "x", paper="—", params={"gamma": GAMMA.with_default(2.0)})
    assert registry.get("focal2").meta["params"] == {"gamma": 2.0} and PARAMS["gamma"].default == 1.0


def test_a_preset_family_must_be_one_of_the_families():
    with pytest.raises(ValueError, match="family"):
        preset("not_registered", "x", "—", "re-weighting")
    assert FAMILIES[0] == "baseline" and len(set(FAMILIES)) == len(FAMILIES)


def test_unknown_parameters_get_one_message_naming_what_is_taken():
    with pytest.raises(ConfigError, match=r"method 'focal' has no parameter\(s\) gama; it takes: .*gamma"):
        check_params("focal", {"gama": 2.0})
    with pytest.raises(ConfigError, match=r"loss 'ce' has no parameter\(s\) x; it takes: none"):
        reject_unknown("loss 'ce'", {"x": 1}, {})
