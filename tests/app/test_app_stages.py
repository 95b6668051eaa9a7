"""Two-stage runs are reported as stage 1 + stage 2 (issue 14, bug 2), never as "done after 0/60"."""
from types import SimpleNamespace

from app.ui import monitor
from app.logic import two_stage as stages, tables
from ltcore import Config

STAGES = [{"stage": 1, "what": "representation learning (plain sampling)", "reused": True, "epochs": 60,
           "from_run": "abcdef123456", "seconds": 4.12},
          {"stage": 2, "what": "crt", "epochs": 10, "seconds": 0.31}]


def result(extras):
    return SimpleNamespace(extras=extras, metrics={"balanced_acc": 0.815, "shot_acc": {}},
                           config=Config(method="crt"), epochs_completed=60, status="done", wall_seconds=0.4)


def status(**kw):
    return {"status": "done", "epoch": 60, "epochs": 60, "history": [{"balanced_acc": 0.5, "reused": True}],
            "cached": False, **kw}


def test_a_finished_two_stage_run_names_both_stages_and_the_final_accuracy():
    line = monitor._line(status(), two_stage=True, result=result({"stages": STAGES}))
    assert line == ("done · balanced acc 81.5% · stage 1: 60 epochs reused from run abcdef (4.1 s when trained)"
                    " · stage 2 crt: 10 epochs, 0.3 s")
    trained = [{**STAGES[0], "reused": False, "seconds": 5.0}, {**STAGES[1], "what": "tau_norm", "epochs": 0}]
    assert stages.describe(result({"stages": trained})) == (
        "stage 1: 60 epochs trained, 5.0 s · stage 2 tau_norm: no training, 0.3 s")


def test_a_running_two_stage_run_says_which_stage_it_is_in():
    running = status(status="running", epoch=12, device="cpu", history=[{"balanced_acc": 0.4}])
    assert monitor._line(running, two_stage=True).startswith("stage 1: epoch 12/60")
    assert monitor._line({**running, "epoch": 60, "history": [{"balanced_acc": 0.4, "reused": True}]},
                         two_stage=True).startswith("stage 1 reused (60 epochs · balanced acc 40.0%) · stage 2 running")
    assert monitor._line(running).startswith("epoch 12/60")           # one-stage runs as before


def test_the_table_and_its_csv_carry_the_stages():
    table = tables.summary_table(["r1"], [result({"stages": STAGES})], ["crt"])
    assert table.loc[0, "epochs"] == 60
    assert table.loc[0, "stages"].startswith("stage 1: 60 epochs reused")
    assert tables.summary_table(["r2"], [result({})], ["ce"]).loc[0, "stages"] == ""
