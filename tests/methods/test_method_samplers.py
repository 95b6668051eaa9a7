"""Samplers: observed class frequencies over many draws match Kang et al.'s probabilities."""
import pytest
import torch

from ltcore.methods import SAMPLERS
from ltcore.methods.samplers import class_probabilities

COUNTS = [400, 100, 25]
LABELS = torch.tensor([0] * 400 + [1] * 100 + [2] * 25)


def frequencies(name, epoch=0, epochs=10, draws=200):
    sampler = SAMPLERS.get(name).obj(COUNTS, epochs)
    gen = torch.Generator().manual_seed(0)
    drawn = torch.cat([LABELS[sampler.order(LABELS, epoch, gen)] for _ in range(draws)])
    return (torch.bincount(drawn, minlength=3).float() / len(drawn)).tolist()


def test_class_probabilities_follow_n_to_the_q():
    n = torch.tensor(COUNTS)
    assert class_probabilities(n, 1.0).tolist() == pytest.approx([400 / 525, 100 / 525, 25 / 525])
    assert class_probabilities(n, 0.5).tolist() == pytest.approx([20 / 35, 10 / 35, 5 / 35])
    assert class_probabilities(n, 0.0).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_instance_balanced_is_a_permutation():
    order = SAMPLERS.get("instance").obj(COUNTS, 10).order(LABELS, 0, torch.Generator().manual_seed(0))
    assert sorted(order.tolist()) == list(range(525))


def test_class_balanced_is_uniform_over_classes():
    assert frequencies("class_balanced") == pytest.approx([1 / 3] * 3, abs=0.01)


def test_square_root_is_proportional_to_root_n():
    # √n = [20, 10, 5] → [0.5714, 0.2857, 0.1429]
    assert frequencies("sqrt") == pytest.approx([0.5714, 0.2857, 0.1429], abs=0.01)


def test_progressive_interpolates_instance_to_class_balanced_reaching_it_at_the_last_epoch():
    ib = [400 / 525, 100 / 525, 25 / 525]
    first = [0.9 * a + 0.1 / 3 for a in ib]  # epochs counted 1…T as BagofTricks-LT: t/T = 1/10
    assert frequencies("progressive", epoch=0) == pytest.approx(first, abs=0.01)
    half = [(a + 1 / 3) / 2 for a in ib]  # 0-based epoch 4 is the 5th of 10
    assert frequencies("progressive", epoch=4) == pytest.approx(half, abs=0.01)
    assert frequencies("progressive", epoch=9) == pytest.approx([1 / 3] * 3, abs=0.01)


def test_random_over_sampling_fills_every_class_to_n_max():
    order = SAMPLERS.get("ros").obj(COUNTS, 10).order(LABELS, 0, torch.Generator().manual_seed(0))
    assert len(order) == 3 * 400
    assert torch.bincount(LABELS[order]).tolist() == [400, 400, 400]
    assert set(order.tolist()) == set(range(525))  # every original image is kept


def test_random_under_sampling_cuts_every_class_to_n_min():
    order = SAMPLERS.get("rus").obj(COUNTS, 10).order(LABELS, 0, torch.Generator().manual_seed(0))
    assert len(order) == 3 * 25
    assert torch.bincount(LABELS[order]).tolist() == [25, 25, 25]
    assert len(set(order.tolist())) == 75  # drawn without replacement
