"""The Compare table's method notes say which SADE a run is (app/logic/tables.py `method_notes`)."""
from app.logic.tables import method_notes
from ltcore.methods import PRESETS


def test_sade_notes_say_averaged_or_aggregated():
    averaged = method_notes({"method_slots": {"classifier": "experts", "stage2": "none"}})
    assert averaged == "SADE experts averaged (no test-time aggregation)"
    weighted = method_notes({"method_slots": {"classifier": "experts"}, "sade_weights": [0.2, 0.5, 0.3]})
    assert "0.20 / 0.50 / 0.30" in weighted and "averaged" not in weighted
    assert method_notes({"method_slots": {"classifier": "linear"}}) == ""


def test_sade_preset_says_it_is_the_averaged_experts():
    entry = PRESETS.get("sade")
    assert "without test-time aggregation" in entry.description and "averaged" in entry.meta["paper"]
