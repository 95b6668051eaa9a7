"""Methods' own training stages (CReST's generations, SSP's pre-training) run the Trainer's loop
(ltcore/engine/loop.py): Stop ends them as it ends the main loop, their progress reaches the listeners,
and a diverged stage fails with the main loop's message instead of storing a broken model."""
import pytest

from ltcore import Config, Trainer
from ltcore.engine.loop import TrainingDiverged


def test_stop_during_a_crest_generation_keeps_what_was_trained(digits, quick):
    """Stop pressed when generation 2 reports its first epoch: generation 2 ends there, generation 3
    never starts, and the run is stopped with generation 2's model and records."""
    events, stop = [], []

    def on_event(event):
        events.append(event)
        if event.get("stage") == "crest generation 2":
            stop.append(True)

    config = Config(**quick, method="crest", method_params={"crest_generations": 3})
    result = Trainer(config, data=digits, on_event=on_event, should_stop=lambda: bool(stop),
                     save_checkpoints=False).fit()
    assert result.status == "stopped"
    stages = [e["stage"] for e in events if e["type"] == "stage2"]
    assert stages == ["crest generation 2"]                       # one epoch of generation 2, then Stop
    assert [g["generation"] for g in result.extras["crest_generations"]] == [1, 2]
    assert len(result.extras["stage2_loss"]) == 1
    assert [e["type"] for e in events][-1] == "end"


def test_stop_during_ssp_pretraining_ends_after_one_step_and_saves_no_checkpoint(digits, quick, tmp_path):
    """Stop already pressed: the pretext stage takes one step (its one-epoch record reaches the
    listeners), saves no half-trained backbone, and the supervised loop never starts."""
    events = []
    config = Config(**quick, method="ssp", method_params={"ssp_epochs": 3})
    result = Trainer(config, data=digits, on_event=events.append, should_stop=lambda: True,
                     checkpoint_root=tmp_path).fit()
    assert result.status == "stopped" and result.history == []
    ssp = result.extras["ssp"]
    assert ssp["stopped"] is True and len(ssp["loss"]) == 1
    assert [(e["stage"], e["epoch"], e["epochs"]) for e in events if e["type"] == "stage1"] == \
        [("ssp_rotation", 1, 3)]
    assert not any(tmp_path.rglob("*.pt"))


def test_a_diverged_ssp_stage_is_a_clear_error_and_saves_no_checkpoint(digits, quick, tmp_path):
    config = Config(**quick, lr=1e6, method="ssp", method_params={"ssp_epochs": 1})
    with pytest.raises(TrainingDiverged, match="loss became nan in ssp_rotation epoch 1; try a smaller"):
        Trainer(config, data=digits, checkpoint_root=tmp_path)
    assert not any(tmp_path.rglob("*.pt"))
