"""Re-sampling: each epoch's order as an index tensor drawn on the labels' device.

Kang et al. ICLR'20 §3.1: class k is drawn with probability p_k ∝ n_k^q (q = 1 instance-balanced,
q = ½ square-root, q = 0 class-balanced) and an image uniformly inside its class; epochs keep N
draws. ROS/RUS change the epoch size (K·n_max / K·n_min). The decoupled second stages (cRT, LWS)
use the authors' class-aware sampler instead (`ClassAwareSampler`: runs of 4 images of one class,
K·n_max draws an epoch).
"""
from __future__ import annotations

import torch

from .registries import SAMPLERS


def class_probabilities(counts: torch.Tensor, q: float) -> torch.Tensor:
    """p_k = n_k^q / Σ_j n_j^q over the non-empty classes (0 for empty ones)."""
    n = counts.detach().cpu().double()  # float64 on the CPU: MPS has no float64
    p = torch.where(n > 0, n.clamp(min=1).pow(q), torch.zeros_like(n))
    return (p / p.sum()).float().to(counts.device)


def draw_by_class(labels: torch.Tensor, class_probs: torch.Tensor, num: int,
                  gen: torch.Generator | None) -> torch.Tensor:
    """`num` indices with replacement: class k with probability p_k, uniform inside the class."""
    counts = torch.bincount(labels, minlength=len(class_probs)).float()
    per_sample = (class_probs.to(labels.device) / counts.clamp(min=1))[labels]
    return torch.multinomial(per_sample, num, replacement=True, generator=gen)


class InstanceBalanced:
    """Every image once per epoch, in random order (plain training)."""

    def __init__(self, counts, epochs):
        pass

    def order(self, labels, epoch, gen):
        return torch.randperm(len(labels), device=labels.device, generator=gen)


class PowerSampler:
    """Class probability ∝ n_k^q; N draws with replacement per epoch (Kang et al. Eq. 1)."""

    def __init__(self, counts, epochs, q: float):
        self.q = q

    def probabilities(self, counts: torch.Tensor, epoch: int) -> torch.Tensor:
        return class_probabilities(counts, self.q)

    def order(self, labels, epoch, gen):
        counts = torch.bincount(labels, minlength=int(labels.max()) + 1)
        return draw_by_class(labels, self.probabilities(counts, epoch), len(labels), gen)


class ProgressiveSampler(PowerSampler):
    """Kang et al. ICLR'20 Eq. 2: p_k(t) = (1 − t/T)·p_k^IB + (t/T)·p_k^CB.

    As BagofTricks-LT (zhangyongshun/BagofTricks-LT `lib/dataset/cao_cifar.py` `update`, called with
    epochs counted 1…T by `main/train.py`) t/T = (epoch + 1)/T for the 0-based epoch here: the first
    epoch is already 1/T of the way, the last one is exactly class-balanced.
    """

    def __init__(self, counts, epochs):
        super().__init__(counts, epochs, 1.0)
        self.epochs = max(int(epochs), 1)

    def probabilities(self, counts, epoch):
        t = min(epoch + 1, self.epochs) / self.epochs
        return (1 - t) * class_probabilities(counts, 1.0) + t * class_probabilities(counts, 0.0)


class Cycle:
    """The authors' `RandomCycleIter`: the items in a random order, a fresh random order each time
    they run out; `take(m)` the next m items (state kept between calls, so across epochs)."""

    def __init__(self, items: torch.Tensor):
        self.items, self.pos = items, len(items)

    def take(self, m: int, gen: torch.Generator | None) -> torch.Tensor:
        parts = []
        while m > 0:
            if self.pos == len(self.items):
                self.items = self.items[torch.randperm(len(self.items), device=self.items.device, generator=gen)]
                self.pos = 0
            step = min(m, len(self.items) - self.pos)
            parts.append(self.items[self.pos:self.pos + step])
            self.pos, m = self.pos + step, m - step
        return torch.cat(parts) if parts else self.items[:0]


class ClassAwareSampler:
    """Class-aware sampling as the decoupling authors' cRT and LWS (facebookresearch/classifier-
    balancing `data/ClassAwareSampler.py` L24-86; `config/*/cls_crt.yaml`, `cls_lws.yaml`:
    `num_samples_cls: 4`): the next class of a random cycle over the classes, then the next
    `per_class` images of that class's own random cycle, one after the other; K·n_max draws an
    epoch. The cycles carry over from one epoch to the next as their iterators do; a last run cut
    by the epoch's end still advances its class's cycle by `per_class` (their `zip` takes all)."""

    def __init__(self, counts=None, epochs=None, per_class: int = 4):
        self.per_class = int(per_class)
        self.classes: Cycle | None = None
        self.members: dict[int, Cycle] = {}

    def order(self, labels: torch.Tensor, epoch: int, gen: torch.Generator | None) -> torch.Tensor:
        counts = torch.bincount(labels)
        present = torch.nonzero(counts).flatten()
        if self.classes is None:
            self.classes = Cycle(present)
            self.members = {k: Cycle(torch.nonzero(labels == k).flatten()) for k in present.tolist()}
        total = int(counts.max()) * len(present)
        runs = -(-total // self.per_class)
        sequence = self.classes.take(runs, gen)
        out = torch.empty(runs, self.per_class, dtype=torch.long, device=labels.device)
        for k in present.tolist():
            rows = torch.nonzero(sequence == k).flatten()
            if len(rows):
                out[rows] = self.members[k].take(len(rows) * self.per_class, gen).view(-1, self.per_class)
        return out.flatten()[:total]


def per_class_order(labels: torch.Tensor, gen: torch.Generator, pick) -> torch.Tensor:
    """Shuffled concatenation over the present classes k of `pick(idx_k, counts)`, where idx_k are
    the indices of class k and counts the class counts (the shared loop of ROS and RUS)."""
    counts = torch.bincount(labels)
    parts = []
    for k in torch.nonzero(counts).flatten().tolist():
        parts += pick(torch.nonzero(labels == k).flatten(), counts)
    order = torch.cat(parts)
    return order[torch.randperm(len(order), device=labels.device, generator=gen)]


class RandomOverSampler:
    """ROS: every image plus draws with replacement from its class up to n_max per class."""

    def __init__(self, counts, epochs):
        pass

    def order(self, labels, epoch, gen):
        def pick(idx, counts):
            extra = torch.randint(len(idx), (int(counts.max()) - len(idx),), device=labels.device, generator=gen)
            return [idx, idx[extra]]

        return per_class_order(labels, gen, pick)


class RandomUnderSampler:
    """RUS: n_min images per class drawn without replacement, fresh each epoch."""

    def __init__(self, counts, epochs):
        pass

    def order(self, labels, epoch, gen):
        def pick(idx, counts):
            target = int(counts[counts > 0].min())
            return [idx[torch.randperm(len(idx), device=labels.device, generator=gen)[:target]]]

        return per_class_order(labels, gen, pick)


SAMPLERS.add("instance", InstanceBalanced, "instance-balanced: every image once per epoch (q = 1)",
             paper="Kang et al. ICLR'20", params={})
SAMPLERS.add("class_balanced", lambda counts, epochs: PowerSampler(counts, epochs, 0.0),
             "class-balanced: classes drawn uniformly (q = 0)", paper="Kang et al. ICLR'20", params={})
SAMPLERS.add("sqrt", lambda counts, epochs: PowerSampler(counts, epochs, 0.5),
             "square-root: class probability ∝ √n_k (q = ½)", paper="Mahajan et al. ECCV'18; "
             "Kang et al. ICLR'20", params={})
SAMPLERS.add("progressive", ProgressiveSampler,
             "progressively-balanced: from instance- to class-balanced over the epochs",
             paper="Kang et al. ICLR'20", params={})
SAMPLERS.add("class_aware", ClassAwareSampler, "class-aware: a random cycle over the classes, runs of 4 "
             "images of a class, K·n_max draws an epoch (the decoupling authors' cRT/LWS sampler)",
             paper="Kang et al. ICLR'20 (classifier-balancing ClassAwareSampler)", params={})
SAMPLERS.add("ros", RandomOverSampler, "random over-sampling: tail images repeated up to n_max",
             paper="Buda et al. Neural Networks'18", params={})
SAMPLERS.add("rus", RandomUnderSampler, "random under-sampling: head images dropped down to n_min",
             paper="Buda et al. Neural Networks'18", params={})
