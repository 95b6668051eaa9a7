"""cRT's and LWS's sampler against the decoupling authors' class-aware sampler: its own draws
(class order, runs, epoch length), not the lab's sampler inside the authors' loop.

Transcribed from facebookresearch/classifier-balancing (commit f162ade) `data/ClassAwareSampler.py`
L24-86 (`RandomCycleIter`, `class_aware_sample_generator`, `ClassAwareSampler`), with
`num_samples_cls: 4` from `config/ImageNet_LT/cls_crt.yaml` and `cls_lws.yaml`.
"""
import random

import torch

from ltcore import Config, train
from ltcore.engine.trainer import prepare_data
from ltcore.methods import samplers, stage2
from ltcore.methods.samplers import ClassAwareSampler

SRC = "facebookresearch/classifier-balancing data/ClassAwareSampler.py"


class AuthorsRandomCycleIter:                                          # L24-44
    def __init__(self, data, test_mode=False):
        self.data_list = list(data)
        self.length = len(self.data_list)
        self.i = self.length - 1
        self.test_mode = test_mode

    def __iter__(self):
        return self

    def __next__(self):
        self.i += 1
        if self.i == self.length:
            self.i = 0
            if not self.test_mode:
                random.shuffle(self.data_list)
        return self.data_list[self.i]


def authors_class_aware_sample_generator(cls_iter, data_iter_list, n, num_samples_cls=1):  # L46-64
    i = 0
    j = 0
    while i < n:
        if j >= num_samples_cls:
            j = 0
        if j == 0:
            temp_tuple = next(zip(*[data_iter_list[next(cls_iter)]] * num_samples_cls))
            yield temp_tuple[j]
        else:
            yield temp_tuple[j]
        i += 1
        j += 1


class AuthorsClassAwareSampler:                                        # L66-86, shuffles switched off
    def __init__(self, labels, num_samples_cls=1):
        num_classes = len(set(labels))
        self.class_iter = AuthorsRandomCycleIter(range(num_classes), test_mode=True)
        cls_data_list = [list() for _ in range(num_classes)]
        for i, label in enumerate(labels):
            cls_data_list[label].append(i)
        self.data_iter_list = [AuthorsRandomCycleIter(x, test_mode=True) for x in cls_data_list]
        self.num_samples = max([len(x) for x in cls_data_list]) * len(cls_data_list)
        self.num_samples_cls = num_samples_cls

    def __iter__(self):
        return authors_class_aware_sample_generator(self.class_iter, self.data_iter_list,
                                                    self.num_samples, self.num_samples_cls)


def test_class_aware_draws_equal_the_authors_with_shuffles_off(fidelity, monkeypatch):
    """With every random cycle in its stored order (the authors' `test_mode`, our randperm = arange)
    the two samplers must draw the same indices, epoch after epoch (their cycles carry over)."""
    monkeypatch.setattr(samplers.torch, "randperm", lambda n, **kw: torch.arange(n))
    labels = torch.tensor([0] * 13 + [1] * 6 + [2] * 3 + [3] * 1)
    ours = ClassAwareSampler(per_class=4)
    theirs = AuthorsClassAwareSampler(labels.tolist(), 4)
    for epoch in range(3):
        mine = ours.order(labels, epoch, None)
        fidelity("crt", SRC, f"class-aware draws (cycles in order), epoch {epoch}", mine, torch.tensor(list(theirs)))


def test_class_aware_draws_runs_of_four_from_shuffled_cycles():
    labels = torch.tensor([0] * 50 + [1] * 20 + [2] * 8 + [3] * 2)
    order = ClassAwareSampler(per_class=4).order(labels, 0, torch.Generator().manual_seed(0))
    assert len(order) == 4 * 50                                        # K · n_max draws
    runs = labels[order].view(-1, 4)
    assert (runs == runs[:, :1]).all()                                 # 4 of a class in a row
    for start in range(0, 48, 4):                                      # each cycle of 4 runs: all classes
        assert sorted(runs[start:start + 4, 0].tolist()) == [0, 1, 2, 3]
    first = order[labels[order] == 0][:50]
    assert sorted(first.tolist()) == list(range(50))                   # a class's images, each once a cycle


def test_crt_stage_draws_class_aware_epochs(monkeypatch):
    """The positions cRT's second stage trains on each epoch: K·n_max of them, in runs of 4 images
    of one class (the lab drew N independent class-balanced samples before)."""
    seen = []
    real = stage2.head_batches

    def spy(ctx, idx, positions, cache):
        seen.append(ctx.train_batches.y[idx][positions].cpu())
        return real(ctx, idx, positions, cache)

    monkeypatch.setattr(stage2, "head_batches", spy)
    digits = prepare_data(Config(dataset="digits", ratio=50, seed=0))
    result = train(Config(dataset="digits", ratio=50, epochs=1, batch_size=64, method="crt",
                          method_params={"stage2_epochs": 2}), data=digits)
    assert result.status == "done", result.error
    counts = digits.counts
    assert len(seen) == 2
    for drawn in seen:
        assert len(drawn) == len(counts) * max(counts), (len(drawn), sum(counts))
        runs = drawn[: len(drawn) // 4 * 4].view(-1, 4)
        assert (runs == runs[:, :1]).all()
