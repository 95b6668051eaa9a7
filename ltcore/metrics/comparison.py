"""A configuration against a baseline, with the statistics that say whether the difference is more
than noise: the paired t interval over the seeds both share (two or more), else a bootstrap over
the test images of one run each (`ltcore.metrics.statistics`). Results in, Intervals and words out
(the Compare page and its tests use these; no UI here)."""
from __future__ import annotations

from .statistics import (FEW_TEST_IMAGES, Interval, bootstrap_difference, paired_difference,
                         wilson_interval)


def test_counts(result) -> list[int]:
    """Test images per class of a run (its stored `test_counts`; else the confusion matrix's rows)."""
    counts = result.metrics.get("test_counts")
    if counts is None and result.metrics.get("confusion_matrix"):
        counts = [sum(row) for row in result.metrics["confusion_matrix"]]
    return list(counts or [])


def correct_counts(result) -> list[int]:
    """Correctly classified test images per class (confusion diagonal; else accuracy × count)."""
    cm = result.metrics.get("confusion_matrix")
    if cm:
        return [int(cm[k][k]) for k in range(len(cm))]
    return [round((a or 0.0) * n) for a, n in zip(result.per_class_acc, test_counts(result))]


def group_test_counts(result) -> dict:
    """Test images behind each shot group's accuracy: {group: images} (groups with classes only;
    `shot_groups` is the group name of each class)."""
    counts = test_counts(result)
    groups = result.metrics.get("shot_groups") or []
    out: dict = {}
    for k, g in enumerate(groups[:len(counts)]):
        out[g] = out.get(g, 0) + counts[k]
    return out


def _by_seed(members, value) -> dict:
    return {r.config.seed: value(r) for r in members}


def change(members: list, base_members: list, k: int | None = None, resamples: int = 4000) -> Interval | None:
    """The change of `members` (a configuration's runs, one per seed) against `base_members` (the
    baseline's) in balanced accuracy (k None) or in class k's accuracy, as a fraction: the mean
    paired difference with its t interval when they share ≥ 2 seeds, else the bootstrap over the
    test images of the first run of each (same seed when one is shared)."""
    if not members or not base_members:
        return None
    metric = (lambda r: r.balanced_acc) if k is None else (lambda r: r.per_class_acc[k])
    paired = paired_difference(_by_seed(members, metric), _by_seed(base_members, metric))
    if paired is not None and paired.low is not None:
        return paired
    base_by_seed = {b.config.seed: b for b in base_members}
    run = next((r for r in members if r.config.seed in base_by_seed), members[0])
    base = base_by_seed.get(run.config.seed, base_members[0])
    ca, cb, n = correct_counts(run), correct_counts(base), test_counts(run)
    if test_counts(base) != n or not n:
        return None
    if k is not None:
        ca, cb, n = [ca[k]], [cb[k]], [n[k]]
    return bootstrap_difference(ca, cb, n, resamples=resamples)


def class_wilson(result) -> list:
    """Per class: the Wilson 95 % interval (low, high) of its accuracy when it rests on fewer than
    FEW_TEST_IMAGES test images, else None."""
    out = []
    for c, n in zip(correct_counts(result), test_counts(result)):
        out.append(wilson_interval(c, n) if 0 < n < FEW_TEST_IMAGES else None)
    return out


def small_test_set(counts: list[int]) -> str | None:
    """A plain warning when some class has fewer than FEW_TEST_IMAGES test images (None otherwise):
    how coarse its accuracy is, that comparisons there cannot be told from noise, and what would
    make them meaningful."""
    present = [n for n in counts if n > 0]
    if not present or min(present) >= FEW_TEST_IMAGES:
        return None
    smallest = min(present)
    low, high = wilson_interval(smallest, smallest)
    steps = f"moves in steps of {100 / smallest:.0f} points" if smallest > 1 else "is either 0 % or 100 %"
    return (f"The test set has {sum(present)} images, as few as {smallest} in a class: such a class's accuracy "
            f"{steps}, and even a perfect score there is only known to lie in [{100 * low:.0f} %, {100 * high:.0f} %] "
            f"(Wilson 95 %). Differences between runs on this test set mostly cannot be told apart from noise "
            f"(see the intervals). To make a comparison meaningful: give each class at least {FEW_TEST_IMAGES} test "
            "images (more images in the folder, or a larger test share), and train every method with several seeds "
            "so that the paired interval over seeds replaces the bootstrap over a handful of images.")
