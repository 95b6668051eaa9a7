"""CReST: class-rebalancing self-training (Wei et al. CVPR'21, "CReST: A Class-Rebalancing
Self-Training Framework for Imbalanced Semi-Supervised Learning", §3.2 and Eq. 1).

Self-training in generations. Generation 1 is the run's main loop on the labelled set. After each
generation the model labels an unlabelled pool; for every predicted class k the most confident
fraction μ_k of the pool samples predicted as k join the labelled set with that pseudo-label,

    μ_k = (N_{K+1−k} / N_1)^α        (Eq. 1, classes ranked by labelled count, N_1 the largest),

so the rarest class keeps all of its predictions and the most frequent one keeps (N_K/N_1)^α of
them; the next generation trains **from scratch** (the starting weights again) on labelled +
pseudo-labelled samples. The last generation's model is the result.

What the authors' code does (github.com/google-research/crest), followed here:
- selection: `util/semisup.py` `get_pseudo_label_list` L288-304 (per predicted class, pool indices by
  descending max-softmax score) and `data/cifar.py` `CIFAR10LT.get_split` L295-308 (num_picked =
  int(len(list_c) · sample_rate[c]^(1/alpha)), sample_rate = gt_p_data[::-1] / gt_p_data[0]); their
  `--alpha 3` is the paper's α = 1/3 (the exponent), the default here. Their classes are sorted by
  frequency (class 0 the head); here classes are ranked by their labelled counts N_k, so any class
  order works (the same numbers when sorted). Their N_k is the nominal profile ρ^(k/(K−1)) the
  counts are drawn from; here the labelled counts themselves.
- each generation selects from the whole pool again and the new training set is the original
  labelled set plus this generation's picks (`get_split` rebuilds it; picks do not accumulate);
- each generation is a new model from the same seed (`semisup.py` `config`: `get_model` and a new
  checkpoint folder per generation), trained for the run's epochs (`--num_epoch` per generation).
- `--num_generation`: flag default 15, README CIFAR command 6. The lab's default is 3 (each
  generation costs one run); `crest_generations` counts generation 1 (the main loop), as
  `gen_idx` does.
- unlabelled split: README command `--percent_labeled 0.1` (10% of each class labelled, `ceil`,
  the rest unlabelled: 9 unlabelled per labelled sample, same class profile). `crest_pool` is that
  ratio; the lab's default 1 keeps runs short and the labelled set large (see below).

Where this differs, and why:
- the base learner is the lab's supervised training (the preset's loss/sampler on labelled +
  pseudo-labelled data); the authors wrap FixMatch/MixMatch, which also use the pool inside each
  generation (consistency loss on augmented views). CReST+'s progressive distribution alignment
  (`pseudo_target_fn` L333-343, `how_dalign='adaptive'`) acts on those in-generation FixMatch
  targets, so it has nothing to act on here and is left out.
- pseudo-labels come from the trained model itself; the authors score with its EMA copy.

The pool (never the validation or test split): on data sets with a generator (MNIST-1D, the
Gaussian mixtures, the synthetic images) extra samples drawn fresh from it, round(crest_pool · n_k)
of class k so the pool follows the labelled profile as in the paper, labels dropped before they
reach this module (MNIST-1D's reservoir holds 1000 per class: a larger ask is capped, the asked size
kept as `asked`); on the others a held-out part of the long-tailed training set, ceil(n_k /
(1 + crest_pool)) of each class stay labelled and the rest lose their labels (the authors' split).
"""
from __future__ import annotations

import copy
import dataclasses
import math

import torch

from ..data import DATASETS, DeviceBatches
from ..errors import ConfigError
from ..engine.loop import epoch_batches, train_epochs
from .registries import STAGE2, integer, number


def crest_rates(counts: list[int], alpha: float) -> list[float]:
    """μ_k of Eq. 1 for every class: the class ranked r-th by labelled count (0 = most frequent,
    ties by index) gets (N_(K−1−r) / N_(0))^α, N_(j) the counts sorted in decreasing order."""
    order = sorted(range(len(counts)), key=lambda k: (-counts[k], k))
    ranked = [counts[k] for k in order]
    head = max(ranked[0], 1)
    rates = [0.0] * len(counts)
    for r, k in enumerate(order):
        rates[k] = (ranked[len(counts) - 1 - r] / head) ** alpha
    return rates


def pseudo_label_lists(probs: torch.Tensor) -> list[torch.Tensor]:
    """Per predicted class, the pool indices predicted as that class, most confident first (the
    score is the max softmax probability)."""
    score, pred = probs.max(1)
    lists = []
    for k in range(probs.shape[1]):
        idx = torch.nonzero(pred == k).flatten()
        lists.append(idx[torch.argsort(score[idx], descending=True, stable=True)])
    return lists


def select_pseudo_labels(probs: torch.Tensor, counts: list[int], alpha: float):
    """(pool indices, pseudo-labels, picked per class, predicted per class): int(|list_k| · μ_k) of
    each class's most confident predictions."""
    rates = crest_rates(counts, alpha)
    picked_idx, picked_y, picked, predicted = [], [], [], []
    for k, idx in enumerate(pseudo_label_lists(probs)):
        n = int(len(idx) * rates[k])
        picked_idx.append(idx[:n])
        picked_y.append(torch.full((n,), k, dtype=torch.long, device=idx.device))
        picked.append(n)
        predicted.append(len(idx))
    return torch.cat(picked_idx), torch.cat(picked_y), picked, predicted


def labelled_split(labels: torch.Tensor, pool_ratio: float, seed: int):
    """(labelled, unlabelled) sorted indices of a labelled set: ceil(n_k / (1 + pool_ratio)) of each
    class stay labelled (the authors' `ceil(n_k · percent_labeled)`), the rest form the pool."""
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(int(seed))
    keep, pool = [], []
    for k in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == k).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        m = math.ceil(len(idx) / (1.0 + pool_ratio))
        keep.append(idx[:m])
        pool.append(idx[m:])
    return torch.cat(keep).sort().values, torch.cat(pool).sort().values


class UnlabelledPool:
    """The unlabelled inputs (raw, as stored for training) and where they came from; no labels."""

    def __init__(self, x: torch.Tensor, source: str, held_idx: torch.Tensor | None = None):
        self.x, self.source, self.held_idx = x, source, held_idx

    def __len__(self) -> int:
        return len(self.x)


def prepare_pool(method, ctx, crest_pool: float = 1.0, **_) -> None:
    """Before training: build the unlabelled pool and keep the starting weights (each generation
    starts from them). On a held-out pool the method trains on the labelled part only."""
    batches = ctx.train_batches
    kept = method.kept_indices(batches.y)
    draw = DATASETS.get(ctx.config.dataset).meta.get("unlabelled")
    if draw is not None:
        sizes = [round(crest_pool * n) for n in method.counts]
        x = draw(sizes, ctx.config.seed)
        pool = UnlabelledPool(x.to(batches.x.device), "generator")
    else:
        keep, held = labelled_split(batches.y[kept], crest_pool, ctx.config.seed)
        keep, held = kept[keep.to(kept.device)], kept[held.to(kept.device)]
        method.train_idx = keep
        method._build(torch.bincount(batches.y[keep], minlength=method.num_classes).tolist())
        pool = UnlabelledPool(batches.x[held], "held-out", held)
    if len(pool) == 0:
        raise ConfigError("crest: the unlabelled pool is empty (too few samples per class); raise "
                          "crest_pool or the data set's size")
    method.crest_pool = pool
    method.crest_labelled = list(method.counts)
    method.crest_start = copy.deepcopy(ctx.model.state_dict())
    method.info["crest_pool"] = {"source": pool.source, "size": len(pool),
                                 "labelled": list(method.counts), "ratio": crest_pool}
    if draw is not None and len(pool) < sum(sizes):   # a generator's reservoir ran short (MNIST-1D)
        method.info["crest_pool"]["asked"] = sum(sizes)


@torch.no_grad()
def pool_probabilities(ctx, pool: UnlabelledPool, batch_size: int = 1024) -> torch.Tensor:
    """Softmax of the current model on the un-augmented pool inputs."""
    ctx.model.eval()
    out = []
    for start in range(0, len(pool), batch_size):
        xb = ctx.train_batches.prepare(pool.x[start:start + batch_size], train=False)
        with torch.autocast(ctx.device.type, enabled=False):
            out.append(torch.softmax(ctx.model(xb).float(), 1))
    return torch.cat(out)


@torch.no_grad()
def validation_balanced_accuracy(method, ctx) -> float | None:
    val = ctx.val_batches
    if val is None or len(val) == 0:
        return None
    ctx.model.eval()
    logits = torch.cat([method.logits(ctx.model, xb).float() for xb, _ in val.eval_batches()])
    hit = torch.bincount(val.y[logits.argmax(1) == val.y], minlength=method.num_classes).float()
    total = torch.bincount(val.y, minlength=method.num_classes).float()
    present = total > 0
    return round(float((hit[present] / total[present]).mean()), 5)


def combined_batches(ctx, labelled_idx: torch.Tensor, pool: UnlabelledPool, picked: torch.Tensor,
                     pseudo: torch.Tensor) -> DeviceBatches:
    """The next generation's training set: the labelled samples with their labels and the picked
    pool samples with their pseudo-labels (same normalisation and augmentation as the run)."""
    batches = copy.copy(ctx.train_batches)
    batches.x = torch.cat([ctx.train_batches.x[labelled_idx], pool.x[picked]])
    batches.y = torch.cat([ctx.train_batches.y[labelled_idx], pseudo])
    return batches


def train_generation(method, ctx, batches: DeviceBatches, generation: int, epochs: int,
                     history: list) -> None:
    """One generation from the starting weights: the run's optimiser settings and lr schedule, the
    method's sampler and loss rebuilt for the new labelled + pseudo-labelled counts."""
    model, config = ctx.model, ctx.config
    model.load_state_dict(method.crest_start)
    if method.params.get("init_from"):
        method._init_from(model, method.params["init_from"])
    method._build(torch.bincount(batches.y, minlength=method.num_classes).tolist())
    every = torch.arange(len(batches), device=batches.y.device)
    view = dataclasses.replace(ctx, train_batches=batches)
    for part in method.slot_objects():  # e.g. CMO's minority sampler, over the new training set
        if callable(getattr(part, "prepare", None)):
            part.prepare(view, every)
    opt = torch.optim.SGD([p for g in method.param_groups(model) for p in g["params"]], lr=config.lr,
                          momentum=config.momentum, weight_decay=config.weight_decay)
    train_epochs(ctx, opt, epochs, lambda xb, yb, epoch: method.training_loss(model, xb, yb, epoch),
                 lambda epoch: epoch_batches(batches, method.sampler.order(batches.y, epoch, ctx.gen),
                                             config.batch_size),
                 {"type": "stage2", "stage": f"crest generation {generation}",
                  "epochs": epochs * (method.crest_generations - 1)},
                 history=history, on_epoch_start=method.on_epoch_start, after_step=method.after_step)


def crest(method, ctx, crest_generations: int = 3, crest_alpha: float = 1 / 3, crest_pool: float = 1.0) -> dict:
    """Generations 2..G after the main loop (generation 1): pseudo-label, re-balance, retrain."""
    method.crest_generations = crest_generations
    pool: UnlabelledPool = method.crest_pool
    labelled_idx = method.kept_indices(ctx.train_batches.y)
    epochs = int(ctx.config.epochs)
    history: list[float] = []
    records = [{"generation": 1, "pseudo_labels": [0] * method.num_classes,
                "val_balanced_acc": validation_balanced_accuracy(method, ctx)}]
    for generation in range(2, crest_generations + 1):
        probs = pool_probabilities(ctx, pool)
        picked, pseudo, per_class, predicted = select_pseudo_labels(probs, method.crest_labelled, crest_alpha)
        train_generation(method, ctx, combined_batches(ctx, labelled_idx, pool, picked, pseudo),
                         generation, epochs, history)
        records.append({"generation": generation, "pseudo_labels": per_class, "predicted": predicted,
                        "val_balanced_acc": validation_balanced_accuracy(method, ctx)})
        if ctx.should_stop():
            break
    ctx.model.eval()
    return {"stage2_loss": history, "crest_generations": records,
            "crest_rates": [round(r, 5) for r in crest_rates(method.crest_labelled, crest_alpha)]}


crest.before_training = prepare_pool

STAGE2.add("crest", crest, "CReST self-training: generations that add the most confident pseudo-labels of an "
           "unlabelled pool, tail classes more often (μ_k = (N_{K+1−k}/N_1)^α), each retrained from scratch",
           paper="Wei et al. CVPR'21", reuse_stage1=False,
           stage1="generation 1: the labelled set", params={
               "crest_generations": integer(3, "CReST: generations, the first being the main loop (authors' "
                                            "--num_generation: 6 in their CIFAR command)", lambda v: v >= 1, "≥ 1"),
               "crest_alpha": number(1 / 3, "CReST: exponent α of μ_k = (N_{K+1−k}/N_1)^α (authors' --alpha 3 "
                                     "is α = 1/3)", lambda v: v >= 0, "≥ 0"),
               "crest_pool": number(1.0, "CReST: unlabelled samples per labelled sample of each class (extra "
                                    "generated samples, or the held-out share of the training set; authors' "
                                    "10% labelled = 9)", lambda v: v > 0, "> 0")})
