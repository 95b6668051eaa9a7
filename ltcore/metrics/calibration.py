"""Expected calibration error and reliability-diagram bins (Guo et al. ICML'17, eq. 3 and §2)."""
from __future__ import annotations

import torch


def reliability_bins(confidence: torch.Tensor, correct: torch.Tensor, n_bins: int = 15) -> dict:
    """Equal-width confidence bins (lo, hi]: per bin count, accuracy and mean confidence (None if empty)."""
    confidence = confidence.detach().double().cpu()
    correct = correct.detach().double().cpu()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # against the interior edges, bucketize puts c in bin b when edges[b] < c <= edges[b+1] (0 → bin 0)
    bins = torch.bucketize(confidence, edges[1:-1], right=False)
    count = torch.bincount(bins, minlength=n_bins).double()
    acc_sum = torch.bincount(bins, weights=correct, minlength=n_bins)
    conf_sum = torch.bincount(bins, weights=confidence, minlength=n_bins)
    nonempty = count > 0
    accuracy = [float(a / c) if c > 0 else None for a, c in zip(acc_sum, count)]
    mean_conf = [float(s / c) if c > 0 else None for s, c in zip(conf_sum, count)]
    return {"edges": edges.tolist(), "count": [int(c) for c in count], "accuracy": accuracy,
            "confidence": mean_conf, "_gap": (acc_sum - conf_sum).abs()[nonempty].sum()}


def expected_calibration_error(logits: torch.Tensor, labels: torch.Tensor,
                               n_bins: int = 15) -> tuple[float | None, dict]:
    """ECE = Σ_b (|B_b|/N)·|acc_b − conf_b| over `n_bins` equal-width bins of max-softmax confidence."""
    probs = torch.softmax(logits.detach().double().cpu(), dim=1)
    confidence, preds = probs.max(1)
    bins = reliability_bins(confidence, preds == labels.cpu(), n_bins)
    gap = bins.pop("_gap")
    n = len(labels)
    # |B_b|·|acc_b − conf_b| = |Σ correct − Σ conf| within the bin, so ECE = Σ_b |gap_b| / N
    return (float(gap) / n if n else None), bins
