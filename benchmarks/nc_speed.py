"""Time ltcore.metrics.neural_collapse on K=100 classes, N=10,000 features of size d=64 (target:
≤ 0.2 s on CPU), next to a naive NumPy version written per class/per sample as in Papyan's notebook.

Run: .venv/bin/python benchmarks/nc_speed.py [--device cpu|cuda] [--repeats 5]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ltcore.metrics import neural_collapse  # noqa: E402


def naive_numpy(h: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> dict:
    """Loop-based NC1–NC4 in float64 (per-sample outer products, per-class loops)."""
    k, d = w.shape
    means = np.stack([h[y == c].mean(0) for c in range(k)])
    mu_g = means.mean(0)
    sigma_w = np.zeros((d, d))
    for i in range(len(y)):
        v = h[i] - means[y[i]]
        sigma_w += np.outer(v, v)
    sigma_w /= len(y)
    m = means - mu_g
    sigma_b = sum(np.outer(m[c], m[c]) for c in range(k)) / k
    nc1 = np.trace(sigma_w @ np.linalg.pinv(sigma_b)) / k
    ncc = np.array([np.argmin([np.linalg.norm(h[i] - means[c]) for c in range(k)]) for i in range(len(y))])
    nc4 = np.mean(np.argmax(h @ w.T + b, 1) != ncc)
    nc3 = np.linalg.norm(w / np.linalg.norm(w) - m / np.linalg.norm(m)) ** 2
    return {"nc1": nc1, "nc3": nc3, "nc4": nc4}


def timed(fn, repeats: int) -> tuple[float, float]:
    """(median, best) wall time of `repeats` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(args.k, args.d, generator=gen) * 3
    y = torch.randint(0, args.k, (args.n,), generator=gen)
    h = centres[y] + torch.randn(args.n, args.d, generator=gen)
    w, b = torch.randn(args.k, args.d, generator=gen), torch.randn(args.k, generator=gen)
    dev = torch.device(args.device)
    hd, yd, wd, bd = h.to(dev), y.to(dev), w.to(dev), b.to(dev)

    def ours():
        out = neural_collapse(hd, yd, wd, bd)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return out

    warnings.simplefilter("ignore")
    t_ours, best = timed(ours, args.repeats)
    hn, yn, wn, bn = (t.double().numpy() if t.is_floating_point() else t.numpy() for t in (h, y, w, b))
    t_naive, _ = timed(lambda: naive_numpy(hn, yn, wn, bn), max(1, args.repeats // 5))
    ref, got = naive_numpy(hn, yn, wn, bn), ours()
    worst = max(abs(ref[key] - got[key]) for key in ref)
    print(f"neural_collapse K={args.k} N={args.n} d={args.d} on {args.device} "
          f"({torch.get_num_threads()} threads): {t_ours * 1e3:.1f} ms median of {args.repeats}, "
          f"best {best * 1e3:.1f} ms")
    print(f"naive numpy loops: {t_naive * 1e3:.0f} ms   ratio naive/ours: {t_naive / t_ours:.0f}x   "
          f"max |difference| NC1/NC3/NC4: {worst:.1e}")
    print(f"target ≤ 200 ms on CPU: {'met' if t_ours <= 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
