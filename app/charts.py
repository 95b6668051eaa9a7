"""Chart builders for data and accuracy: pure functions from numbers/RunResults to plotly Figures.

Accuracies stay fractions in the figure data (axes formatted as %), so a chart's numbers equal the
run's numbers exactly."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

GROUP_COLORS = {"many": "#2563eb", "medium": "#f59e0b", "few": "#dc2626"}
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#f59e0b", "#0891b2", "#db2777", "#65a30d",
           "#78716c", "#1e3a8a"]
PCT = dict(tickformat=".0%", rangemode="tozero")


def frequency_order(counts) -> list[int]:
    """Class indices from the most to the least frequent in training (ties keep index order)."""
    return sorted(range(len(counts)), key=lambda k: (-counts[k], k))


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    """Title on top, legend on the right (clear of subplot titles and axis titles)."""
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=30, t=70, b=40))
    return fig


def label_histogram(class_names, train_counts, test_counts, groups, log: bool = False) -> go.Figure:
    """Training counts sorted by frequency, coloured by shot group, next to the balanced test set."""
    order = frequency_order(train_counts)
    names = [str(class_names[k]) for k in order]
    fig = make_subplots(1, 2, column_widths=[0.62, 0.38], horizontal_spacing=0.08,
                        subplot_titles=("training set (long-tailed)", "test set (balanced)"))
    for group, color in GROUP_COLORS.items():
        ks = [k for k in order if groups[k] == group]
        if ks:
            fig.add_bar(x=[str(class_names[k]) for k in ks], y=[train_counts[k] for k in ks], name=group,
                        marker_color=color, row=1, col=1, hovertemplate="class %{x}: %{y} images")
    fig.add_bar(x=names, y=[test_counts[k] for k in order], name="test", marker_color="#94a3b8",
                row=1, col=2, hovertemplate="class %{x}: %{y} images")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent)")
    fig.update_yaxes(type="log" if log else "linear", title="images", row=1, col=1)
    fig.update_yaxes(type="log" if log else "linear", row=1, col=2)
    return _layout(fig, "How many images each class has")


def sample_gallery(images: np.ndarray, labels: np.ndarray, class_names, order, per_class: int = 8) -> go.Figure:
    """A mosaic: one row per class (in `order`), up to `per_class` training images; blanks show
    how few images the tail has. `images` is uint8 (N, C, H, W)."""
    n, c, h, w = images.shape
    mosaic = np.full((len(order) * (h + 1), per_class * (w + 1), 3), 255, dtype=np.uint8)
    for row, k in enumerate(order):
        picks = images[labels == k][:per_class]
        for col, img in enumerate(picks):
            rgb = 255 - np.repeat(img, 3, 0) if c == 1 else img[:3]   # grey images as dark ink on white
            mosaic[row * (h + 1):row * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = rgb.transpose(1, 2, 0)
    fig = go.Figure(go.Image(z=mosaic, hoverinfo="skip"))
    fig.update_yaxes(tickvals=[row * (h + 1) + h / 2 for row in range(len(order))],
                     ticktext=[str(class_names[k]) for k in order], title="class")
    fig.update_xaxes(showticklabels=False)
    return _layout(fig, f"Training images per class (up to {per_class}; blanks: the class has no more)",
                   height=max(300, 48 * len(order)))


def scatter_2d(x: np.ndarray, y: np.ndarray, class_names) -> go.Figure:
    """2-D training points coloured by class."""
    fig = go.Figure()
    for k, name in enumerate(class_names):
        pts = x[y == k]
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"{name} ({len(pts)})",
                        marker=dict(size=5, color=PALETTE[k % len(PALETTE)], opacity=0.7))
    fig.update_yaxes(scaleanchor="x")
    return _layout(fig, "Training points", height=420)


def training_curves(runs: list[tuple[str, list[dict]]]) -> go.Figure:
    """Loss, balanced accuracy and few-shot accuracy per epoch, one colour per run."""
    fig = make_subplots(1, 3, subplot_titles=("training loss", "balanced accuracy (test)",
                                              "few-shot accuracy (test)"), horizontal_spacing=0.07)
    for i, (label, history) in enumerate(runs):
        epochs = [row["epoch"] for row in history]
        color = PALETTE[i % len(PALETTE)]
        for col, key in enumerate(("loss", "balanced_acc", "few_acc"), start=1):
            fig.add_scatter(x=epochs, y=[row.get(key) for row in history], mode="lines+markers",
                            name=label, legendgroup=label, showlegend=col == 1,
                            line=dict(color=color), marker=dict(size=4), row=1, col=col)
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(**PCT, row=1, col=2)
    fig.update_yaxes(**PCT, row=1, col=3)
    return _layout(fig, "Training progress", height=320)


def per_class_accuracy(results, labels) -> go.Figure:
    """Per-class test accuracy of each run, classes sorted by training frequency (of the first
    run), with the training counts on a second axis."""
    counts = results[0].class_counts
    order = frequency_order(counts)
    names = [str(results[0].class_names[k]) for k in order]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for i, (r, label) in enumerate(zip(results, labels)):
        fig.add_bar(x=names, y=[r.per_class_acc[k] for k in order], name=label,
                    marker_color=PALETTE[i % len(PALETTE)], secondary_y=False)
    seen = []
    for r in results:
        if r.class_counts not in seen:
            seen.append(r.class_counts)
            fig.add_scatter(x=names, y=[r.class_counts[k] for k in order], mode="lines+markers",
                            name="training images" + (f" (ρ{r.config.ratio:g})" if len(results) > 1 else ""),
                            line=dict(color="#475569", dash="dot"), secondary_y=True)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent)")
    fig.update_yaxes(title="test accuracy", range=[0, 1.02], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title="training images", rangemode="tozero", showgrid=False, tickmode="auto",
                     secondary_y=True)
    fig.update_layout(barmode="group")
    return _layout(fig, "Per-class accuracy, classes sorted by training frequency")


def shot_accuracy(results, labels) -> go.Figure:
    """Many/medium/few-shot accuracy as grouped bars, one bar per run."""
    fig = go.Figure()
    groups = ["many", "medium", "few"]
    for i, (r, label) in enumerate(zip(results, labels)):
        fig.add_bar(x=groups, y=[r.shot_acc.get(g) for g in groups], name=label,
                    marker_color=PALETTE[i % len(PALETTE)])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="mean per-class accuracy", range=[0, 1.02], tickformat=".0%")
    rule = results[0].shot_rule if results else ""
    return _layout(fig, f"Many / medium / few-shot accuracy<br><sup>{rule}</sup>")


def accuracy_change(results, labels, baseline) -> go.Figure:
    """Per-class accuracy of each run minus the baseline run's, classes by training frequency."""
    order = frequency_order(baseline.class_counts)
    names = [str(baseline.class_names[k]) for k in order]
    fig = go.Figure()
    for i, (r, label) in enumerate(zip(results, labels)):
        if r is baseline:
            continue
        fig.add_bar(x=names, y=[r.per_class_acc[k] - baseline.per_class_acc[k] for k in order], name=label,
                    marker_color=PALETTE[i % len(PALETTE)])
    fig.add_hline(y=0, line_color="#475569")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent)")
    fig.update_yaxes(title="accuracy change", tickformat="+.0%")
    fig.update_layout(barmode="group")
    return _layout(fig, "Change in per-class accuracy against the baseline")
