"""CReST (Wei et al. CVPR'21): the unlabelled pool, its labels kept out of training, the
per-generation pseudo-label counts, and 2-epoch runs on digits (held-out pool) and MNIST-1D (pool
drawn from the generator) from the API and the CLI."""
import json

import pytest
import torch

from ltcore import Config
from ltcore.cli import main
from ltcore.data import load_split
from ltcore.data.mnist1d_set import unlabelled_signals
from ltcore.errors import ConfigError
from ltcore.methods.crest import crest_rates
from ltcore.engine.trainer import Trainer, train

TINY = dict(crest_generations=2)


def crest_trainer(data, relabel=None, **params):
    config = Config(dataset="digits", ratio=50, epochs=2, batch_size=64, method="crest",
                    method_params={**TINY, **params})
    trainer = Trainer(config, data=data, save_checkpoints=False)
    if relabel is not None:
        held = trainer.method.crest_pool.held_idx.to(trainer.train_batches.y.device)
        trainer.train_batches.y[held] = relabel(trainer.train_batches.y[held])
    return trainer


def test_pool_labels_never_reach_training(digits):
    """The held-out pool's true labels replaced by wrong ones after the split: the trained model is
    the same to the last bit, so only pseudo-labels of pool samples ever reached a loss."""
    clean = crest_trainer(digits)
    pool = clean.method.crest_pool
    assert pool.source == "held-out" and len(pool) > 0
    train_idx = clean.method.train_idx.cpu()
    assert not set(pool.held_idx.tolist()) & set(train_idx.tolist())
    labelled = torch.bincount(digits.y_train[train_idx], minlength=10).tolist()
    assert labelled == [-(-n // 2) for n in digits.counts]          # ceil(n_k / (1 + 1))
    result = clean.fit()
    poisoned = crest_trainer(digits, relabel=lambda y: (y + 3) % 10)
    other = poisoned.fit()
    assert result.status == other.status == "done"
    for (name, a), b in zip(clean.model.state_dict().items(), poisoned.model.state_dict().values()):
        assert torch.equal(a, b), name
    gens = result.extras["crest_generations"]
    assert [g["generation"] for g in gens] == [1, 2]
    rates = crest_rates(labelled, 1 / 3)
    assert gens[1]["pseudo_labels"] == [int(p * r) for p, r in zip(gens[1]["predicted"], rates)]
    assert sum(gens[1]["predicted"]) == len(pool)
    assert [s["what"] for s in result.extras["stages"]] == ["generation 1: the labelled set", "crest"]
    assert len(result.extras["stage2_loss"]) == 2                    # one more generation of 2 epochs


def test_crest_on_mnist1d_draws_a_fresh_pool_from_the_generator_and_trains(isolated_data_dir):
    """The pool: extra generated signals with the labelled profile, none of them a training,
    validation or test signal; a 2-generation × 1-epoch run from the API."""
    result = train(Config(dataset="mnist1d", ratio=100, epochs=1, batch_size=256, model="mlp",
                          method="crest", method_params=TINY), save_checkpoints=False)
    assert result.status == "done"
    info = result.extras["crest_pool"]
    assert info["source"] == "generator" and info["size"] == sum(result.class_counts)
    assert info["labelled"] == list(result.class_counts)
    picked = result.extras["crest_generations"][1]["pseudo_labels"]
    assert sum(picked) > 0 and len(result.extras["stage2_loss"]) == 1

    split = load_split("mnist1d", isolated_data_dir)
    pool = unlabelled_signals(list(result.class_counts), seed=0, data_dir=isolated_data_dir)
    assert pool.shape == (sum(result.class_counts), 40)
    seen = {tuple(r) for part in (split.x_train, split.x_val, split.x_test) for r in part.tolist()}
    assert not any(tuple(r) in seen for r in pool.tolist())
    assert not torch.equal(pool, unlabelled_signals(list(result.class_counts), seed=1, data_dir=isolated_data_dir))


def test_crest_trains_two_epochs_on_digits_from_the_cli(tmp_path, capsys):
    out = tmp_path / "crest.json"
    code = main(["train", "--dataset", "digits", "--ratio", "50", "--epochs", "2", "--batch-size", "64",
                 "--method", "crest", "--crest-generations", "2", "--crest-alpha", "0.5", "--no-store",
                 "--quiet", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    gens = data["extras"]["crest_generations"] if "extras" in data else data["crest_generations"]
    assert len(gens) == 2


def test_crest_refuses_a_contrastive_or_pretext_stage():
    with pytest.raises(ConfigError, match="crest"):
        Config(dataset="digits", method="crest", method_params={"contrast": "kcl"}).validate()
