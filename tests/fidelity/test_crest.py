"""CReST's pseudo-label selection against a transcription of its authors' code.

Authors: github.com/google-research/crest
- `util/semisup.py` `get_pseudo_label_list` L288-304: per predicted class, the unlabelled indices
  sorted by descending max score;
- `data/cifar.py` `CIFAR10LT.get_split` L295-308 (update_mode 'distribution'):
  sample_rate = gt_p_data[::-1] / gt_p_data[0];
  num_picked = int(len(pseudo_label_list[c]) * pow(sample_rate[c], 1 / alpha)).
Their `--alpha 3` is the paper's exponent α = 1/3 (Eq. 1: μ_k = (N_{K+1−k}/N_1)^α).
"""
import math

import numpy as np
import pytest
import torch

from ltcore.data import class_counts
from ltcore.methods.crest import crest_rates, select_pseudo_labels


def authors_pseudo_label_list(scores: np.ndarray, num_class: int) -> list[np.ndarray]:
    """util/semisup.py L288-304, TF ops as NumPy."""
    y_pred = np.argmax(scores, axis=1)
    y_score = np.max(scores, axis=1)
    idx = np.arange(len(y_pred))
    out = []
    for class_idx in range(num_class):
        y_where = np.where(y_pred == class_idx)[0]
        idx_gather = idx[y_where]
        score_gather = y_score[y_where]
        sort_idx = np.argsort(-score_gather, kind="stable")
        out.append(idx_gather[sort_idx])
    return out


def authors_picks(pseudo_label_list, gt_p_data: np.ndarray, alpha: float, num_class: int):
    """data/cifar.py L298-308 (the picked indices per class; images/labels left out)."""
    sample_rate = gt_p_data[::-1] / gt_p_data[0]
    picked = []
    for c in range(num_class):
        num_picked = int(len(pseudo_label_list[c]) * math.pow(sample_rate[c], 1 / alpha))
        picked.append(pseudo_label_list[c][:num_picked])
    return picked


def random_scores(n: int, k: int, seed: int, skew: torch.Tensor | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    logits = 2.0 * torch.randn(n, k, generator=gen, dtype=torch.float64)
    if skew is not None:
        logits = logits + skew
    return torch.softmax(logits, 1)


@pytest.mark.parametrize("ratio,code_alpha,k", [(100, 3.0, 10), (50, 2.0, 10), (10, 3.0, 5), (200, 1.0, 20)])
def test_picks_equal_the_authors_on_identical_scores(ratio, code_alpha, k, fidelity):
    counts = class_counts(k, 1000, ratio, "exp")
    gt_p = np.asarray(counts, dtype=np.float64) / sum(counts)
    for seed in range(5):
        # head-heavy predictions, as a model trained on long-tailed data makes them
        scores = random_scores(3000, k, seed, skew=torch.log(torch.tensor(gt_p)))
        want = authors_picks(authors_pseudo_label_list(scores.numpy(), k), gt_p, code_alpha, k)
        idx, labels, picked, predicted = select_pseudo_labels(scores, counts, 1.0 / code_alpha)
        fidelity("crest", "crest data/cifar.py `get_split` L295-308", "pseudo-labels picked per class",
                 torch.tensor(picked), torch.tensor([len(w) for w in want]), choice=True)
        fidelity("crest", "crest util/semisup.py `get_pseudo_label_list` L288-304",
                 "picked pool indices (by confidence)", idx, torch.as_tensor(np.concatenate(want)), choice=True)
        assert labels.tolist() == [c for c, w in enumerate(want) for _ in w]
        assert sum(predicted) == 3000


def test_rates_follow_eq1_and_rank_classes_by_labelled_count_in_any_order():
    counts = [500, 20, 158, 50, 5]          # class order shuffled: ranks 0, 3, 1, 2, 4
    rates = crest_rates(counts, 1 / 3)
    ranked = sorted(counts, reverse=True)   # N_1 … N_K
    for k, n in enumerate(counts):
        r = ranked.index(n)                 # 0-based rank l − 1
        assert rates[k] == pytest.approx((ranked[len(counts) - 1 - r] / ranked[0]) ** (1 / 3))
    assert rates[4] == 1.0 and rates[0] == pytest.approx((5 / 500) ** (1 / 3))
    # the same picks as the authors' code on the classes sorted by count
    perm = sorted(range(5), key=lambda c: -counts[c])
    scores = random_scores(2000, 5, 7)
    sorted_scores = scores[:, perm]
    gt_p = np.asarray([counts[c] for c in perm], dtype=np.float64)
    want = authors_picks(authors_pseudo_label_list(sorted_scores.numpy(), 5), gt_p / gt_p.sum(), 3.0, 5)
    _, _, picked, _ = select_pseudo_labels(scores, counts, 1 / 3)
    assert [picked[c] for c in perm] == [len(w) for w in want]


def test_drawn_counts_give_rates_within_two_percent_of_the_nominal_profile():
    """The authors' N_k is the nominal profile ρ^(k/(K−1)); the lab uses the drawn counts
    int(n_max·ρ^(−k/(K−1))), whose rates differ by the rounding only."""
    counts = class_counts(10, 1000, 100, "exp")
    nominal = np.power(0.01, np.arange(10) / 9)
    theirs = np.power(nominal[::-1] / nominal[0], 1 / 3)
    ours = np.asarray(crest_rates(counts, 1 / 3))
    assert np.all(np.abs(ours / theirs - 1) <= 0.02)
