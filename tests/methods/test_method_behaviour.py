"""What a user would check: on digits-LT (ρ = 50), the long-tail methods raise few-shot accuracy
over plain cross-entropy, averaged over three seeds (the subset drawn and the init change)."""
import statistics

import pytest

from ltcore import Config, train
from ltcore.engine.trainer import prepare_data

SEEDS = (0, 1, 2)
# la_loss at τ = 1 is Balanced Softmax (tested as an identity), so post-hoc LA stands for LA here
METHODS = ("balanced_softmax", "la_posthoc", "ldam_drw", "crt")


@pytest.mark.slow
def test_long_tail_methods_raise_few_shot_accuracy_over_ce():
    few = {name: [] for name in ("ce", *METHODS)}
    for seed in SEEDS:
        data = prepare_data(Config(dataset="digits", ratio=50, seed=seed))
        for name in few:  # `ce` first: crt then reuses its saved stage-1 model
            result = train(Config(dataset="digits", ratio=50, seed=seed, epochs=30, method=name), data=data)
            few[name].append(result.shot_acc["few"])
    mean = {name: statistics.mean(v) for name, v in few.items()}
    print("few-shot accuracy (mean of 3 seeds):", {k: round(v, 3) for k, v in mean.items()})
    for name in METHODS:
        assert mean[name] > mean["ce"] + 0.05, (name, mean)
