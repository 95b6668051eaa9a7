"""Chart builders over runs' per-epoch histories, as TensorBoard / W&B users read them: overlaid
curves with smoothing and a log axis, train against test accuracy, and per-class accuracy over
epochs as a class × epoch heatmap. Seed groups are one line (their mean) in a band (± one std)."""
from __future__ import annotations

import plotly.graph_objects as go

from ltcore.metrics.seeds import history_band

from app.charts.base import _faded, _layout, curve_mode, frequency_order, log_axis, run_color, run_dash
from app.logic.plaintext import plain

METRICS = {"loss": "training loss", "balanced_acc": "balanced accuracy (test)", "test_acc": "accuracy (test)",
           "few_acc": "few-shot accuracy (test)", "medium_acc": "medium-shot accuracy (test)",
           "many_acc": "many-shot accuracy (test)", "train_acc": "accuracy on the training batches",
           "lr": "learning rate"}


def ema(values: list, weight: float) -> list:
    """TensorBoard's smoothing: an exponential moving average, debiased so the first points are not
    pulled towards 0 (s_t = w·s_{t−1} + (1−w)·x_t, divided by 1 − w^t). None stays None and is
    skipped; weight 0 returns the values."""
    if weight <= 0:
        return list(values)
    out, last, steps = [], 0.0, 0
    for v in values:
        if v is None:
            out.append(None)
            continue
        steps += 1
        last = weight * last + (1 - weight) * v
        out.append(last / (1 - weight ** steps))
    return out


def overlaid_curves(groups: list[tuple[str, list[list[dict]]]], key: str, smoothing: float = 0.0,
                    log_y: bool = False) -> go.Figure:
    """One metric over epochs for every run or seed group; with smoothing, the raw curve stays
    faint behind the smoothed one (as in TensorBoard)."""
    fig = go.Figure()
    shown = []
    mode = curve_mode(sum(max((len(h) for h in histories), default=0) for _, histories in groups))
    for i, (label, histories) in enumerate(groups):
        color, several = run_color(i), len(histories) > 1
        band = history_band(histories, key)
        if not band["epoch"]:
            continue
        x = band["epoch"]
        if several:
            fig.add_scatter(x=x + x[::-1], y=ema(band["high"], smoothing) + ema(band["low"], smoothing)[::-1],
                            fill="toself", fillcolor=_faded(color), line=dict(width=0), hoverinfo="skip",
                            legendgroup=label, showlegend=False)
        if smoothing > 0:
            fig.add_scatter(x=x, y=band["mean"], mode="lines", line=dict(color=_faded(color, 0.35), width=1),
                            legendgroup=label, showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=x, y=ema(band["mean"], smoothing), mode=mode if len(x) > 1 else "lines+markers",
                        name=f"{label} ({len(histories)} seeds, mean ± std)" if several else label,
                        legendgroup=label, line=dict(color=color, dash=run_dash(i), width=2), marker=dict(size=4),
                        hovertemplate=f"{plain(label)}, epoch %{{x}}: %{{y:.4g}}<extra></extra>")
        shown += band["low"] + band["high"] + band["mean"]
    fig.update_xaxes(title="epoch")
    title = METRICS.get(key, key)
    if log_y:
        fig.update_yaxes(**log_axis(shown), title=f"{title} (log scale)")
    else:
        fig.update_yaxes(title=title, **(dict(tickformat=".0%") if key.endswith("acc") else {}))
    what = f", smoothed (EMA weight {smoothing:g}; faint: raw)" if smoothing > 0 else ""
    return _layout(fig, f"{title[0].upper() + title[1:]} over training{what}", height=380)


def train_vs_test(groups: list[tuple[str, list[list[dict]]]]) -> go.Figure:
    """Accuracy on the training batches (solid; the long-tailed training set, measured during the
    epoch) against accuracy on the balanced test set (dashed), one colour per run: the gap is
    over-fitting plus the train/test prior shift."""
    fig = go.Figure()
    for i, (label, histories) in enumerate(groups):
        color = run_color(i)
        for key, dash, what in (("train_acc", "solid", "train"), ("test_acc", "dash", "test")):
            band = history_band(histories, key)
            if band["epoch"]:
                fig.add_scatter(x=band["epoch"], y=band["mean"], mode="lines", name=f"{label}: {what}",
                                legendgroup=label, line=dict(color=color, dash=dash, width=2),
                                hovertemplate=f"{plain(label)} {what}, epoch %{{x}}: %{{y:.1%}}<extra></extra>")
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="accuracy", tickformat=".0%", range=[0, 1.02])
    return _layout(fig, "Train (solid, long-tailed training batches) vs test (dashed, balanced test set) accuracy")


def class_epoch_heatmap(histories: list[list[dict]], class_names, class_counts, label: str) -> go.Figure:
    """Test accuracy of every class (rows, most → least frequent) at every epoch (columns); the
    mean over the seeds given. Tail classes that never learn stay a dark bottom row."""
    order = frequency_order(class_counts)
    epochs = sorted({int(row["epoch"]) for h in histories for row in h if row.get("per_class_acc")})
    cells: dict[tuple[int, int], list] = {}
    for h in histories:
        for row in h:
            for k, v in enumerate(row.get("per_class_acc") or []):
                if v is not None:
                    cells.setdefault((k, int(row["epoch"])), []).append(v)
    z = [[sum(cells[k, e]) / len(cells[k, e]) if (k, e) in cells else None for e in epochs] for k in order]
    names = [f"{class_names[k]} ({class_counts[k]})" for k in order]
    fig = go.Figure(go.Heatmap(z=z, x=epochs, y=names, zmin=0, zmax=1, colorscale="Viridis",
                               colorbar=dict(title="accuracy", tickformat=".0%"),
                               hovertemplate="class %{y}, epoch %{x}: %{z:.1%}<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed", title="class (training images), most → least frequent")
    fig.update_xaxes(title="epoch")
    seeds = f" (mean of {len(histories)} seeds)" if len(histories) > 1 else ""
    return _layout(fig, f"Per-class test accuracy over epochs: {plain(label)}{seeds}",
                   height=max(320, 28 * len(order) + 140))
