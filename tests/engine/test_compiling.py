"""torch.compile of the backbone (LTLAB_COMPILE): the same training as eager, compiled once per run,
used only for the main loop's full batches, and a clear message for a bad setting."""
import os

import pytest
import torch

from ltcore import Config, LTError, train
from ltcore.engine.compiling import compile_mode
from ltcore.engine.trainer import Trainer

TINY = dict(dataset="digits", ratio=20, epochs=2, batch_size=64, precision="fp32", seed=3)


def test_compile_setting_is_read_from_the_environment_and_a_bad_value_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("LTLAB_COMPILE", raising=False)
    assert compile_mode(False) is None and compile_mode(True) == "default"
    monkeypatch.setenv("LTLAB_COMPILE", "1")
    assert compile_mode(False) == "default"
    monkeypatch.setenv("LTLAB_COMPILE", "max-autotune-no-cudagraphs")
    assert compile_mode(False) == "max-autotune-no-cudagraphs"
    monkeypatch.setenv("LTLAB_COMPILE", "0")
    assert compile_mode(True) is None
    monkeypatch.setenv("LTLAB_COMPILE", "fast")
    with pytest.raises(LTError, match="LTLAB_COMPILE='fast'"):
        compile_mode(False)


@pytest.mark.slow
def test_a_compiled_run_trains_like_the_eager_run_and_compiles_once(monkeypatch):
    """aot_eager traces and partitions forward/backward like inductor but runs the same ATen ops, so
    the compiled run must match the eager one to rounding; the trace must happen once for the run."""
    from torch._dynamo.utils import counters

    monkeypatch.delenv("LTLAB_COMPILE", raising=False)
    eager = train(Config(**TINY))
    torch._dynamo.reset()
    counters.clear()
    monkeypatch.setenv("LTLAB_COMPILE", "1")
    monkeypatch.setenv("LTLAB_COMPILE_BACKEND", "aot_eager")
    trainer = Trainer(Config(**TINY))
    compiled = trainer.fit()
    full = len(trainer.train_batches) // 64
    info = compiled.extras["compiled"]
    assert info["calls"] == full * 2 and info["backend"] == "aot_eager"  # partial batches ran eagerly
    assert counters["stats"]["unique_graphs"] == 1  # no recompilation across epochs, hooks or eval
    assert "fast_features" not in trainer.model.__dict__  # the model outside the loop is the eager one
    for a, b in zip(eager.history, compiled.history):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4, abs=1e-6)
    assert compiled.balanced_acc == pytest.approx(eager.balanced_acc, abs=0.02)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LTLAB_TEST_INDUCTOR"), reason="inductor writes and builds C++ with g++: "
                    "about 6 minutes on the shared 2-core machine; set LTLAB_TEST_INDUCTOR=1 to run it")
def test_inductor_compiles_the_backbone_on_this_cpu(monkeypatch):
    """The real code generator (C++ on a CPU): a run trains and reports its compilation."""
    monkeypatch.setenv("LTLAB_COMPILE", "1")
    monkeypatch.delenv("LTLAB_COMPILE_BACKEND", raising=False)
    torch._dynamo.reset()
    result = train(Config(**(TINY | {"epochs": 1})))
    assert result.status == "done" and result.extras["compiled"]["backend"] == "inductor"
    assert result.extras["compiled"]["calls"] > 0 and result.extras["compiled"]["first_call_s"] > 0
