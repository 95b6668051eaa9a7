"""Chart builders for data and accuracy: pure functions from numbers/RunResults to plotly Figures.

Accuracies stay fractions in the figure data (axes formatted as %), so a chart's numbers equal the
run's numbers exactly."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ltcore.metrics.comparison import class_wilson, group_test_counts, test_counts
from ltcore.metrics.statistics import FEW_TEST_IMAGES

from app.logic.labels import own_ratio, ratio_text
from app.logic.plaintext import plain
from app.logic.tables import NO_FEW

GROUP_COLORS = {"many": "#2563eb", "medium": "#f59e0b", "few": "#dc2626"}
CLASS_COLORS = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
                "#AA4499", "#555555"]
"""Class colours: Paul Tol's colour-blind-safe "muted" scheme (9 colours) and a dark grey; beyond
10 classes the colours repeat with another marker symbol (CLASS_SYMBOLS)."""
CLASS_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "triangle-down", "star"]
RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
"""Run colours: the Okabe–Ito colour-blind-safe set without its yellow, none of them a class colour
(so a run is never mistaken for a class); beyond 7 runs lines dash and bars are hatched."""
RUN_DASHES = ["solid", "dash", "dot"]
RUN_PATTERNS = ["", "/", "."]
PALETTE = RUN_COLORS  # older name, kept for callers that colour runs
PCT = dict(tickformat=".0%", rangemode="tozero")


MARKERS_UP_TO = 150
"""Curves carry a marker per point only while a chart has at most this many points in all: every
marker is an SVG element the browser draws, and ten runs' curves with markers took 1.4–1.7× the
drawing time of the same lines without (docs/benchmarks.md, "Page latency"). Hover still shows each value."""


def curve_mode(points: int) -> str:
    """Plotly `mode` of the curves of a chart drawing `points` points in all (single points always
    keep their marker, or they would not show)."""
    return "lines+markers" if points <= MARKERS_UP_TO else "lines"


def class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def class_symbol(k: int) -> str:
    return CLASS_SYMBOLS[(k // len(CLASS_COLORS)) % len(CLASS_SYMBOLS)]


def run_color(i: int) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)]


def run_dash(i: int) -> str:
    return RUN_DASHES[(i // len(RUN_COLORS)) % len(RUN_DASHES)]


def run_bar(i: int) -> dict:
    """Bar marker of the i-th run: its colour, hatched after the first 7 runs."""
    pattern = RUN_PATTERNS[(i // len(RUN_COLORS)) % len(RUN_PATTERNS)]
    return dict(color=run_color(i), pattern=dict(shape=pattern)) if pattern else dict(color=run_color(i))


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick values and labels of a log axis over [low, high] (both > 0): the powers of ten (1, 10,
    100 or 0.01, 0.1, 1), written out in full; where the range holds fewer than two of them, the
    1-2-5 steps in between, also written out (no bare minor digits such as "2" or "5")."""
    low, high = min(low, high), max(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    values = [10.0 ** e for e in range(first, last + 1)]
    inside = [v for v in values if low <= v * (1 + 1e-9) and v <= high * (1 + 1e-9)]
    if len(inside) < 2:
        values = [m * 10.0 ** e for e in range(first, last + 1) for m in (1, 2, 5)]
    values = [v for v in values if low / 1.5 <= v <= high * 1.5] or values
    return values, [_tick_text(v) for v in values]


def _tick_text(value: float) -> str:
    if 1e-4 <= value < 1e6:
        return f"{value:.6f}".rstrip("0").rstrip(".") if value < 1 else f"{value:,.0f}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def log_axis(values, floor: float | None = None) -> dict:
    """Axis settings of a log axis showing `values` (and `floor`) with clean ticks (log_ticks)."""
    positive = [float(v) for v in values if v is not None and v > 0 and math.isfinite(v)]
    if floor is not None:
        positive.append(floor)
    if not positive:
        return dict(type="log")
    low, high = min(positive), max(positive)
    tickvals, ticktext = log_ticks(low, high)
    pad = 0.08 * max(math.log10(high) - math.log10(low), 0.5)
    return dict(type="log", tickvals=tickvals, ticktext=ticktext,
                range=[math.log10(low) - pad, math.log10(high) + pad])


def zero_floor(values) -> float:
    """Where a log axis draws values of 0: one decade below the smallest positive value's decade
    (1e-3 when there is none)."""
    positive = [float(v) for v in values if v is not None and v > 0]
    return 10.0 ** (math.ceil(math.log10(min(positive))) - 1) if positive else 1e-3


def frequency_order(counts) -> list[int]:
    """Class indices from the most to the least frequent in training (ties keep index order)."""
    return sorted(range(len(counts)), key=lambda k: (-counts[k], k))


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    """Title on top, legend on the right (clear of subplot titles and axis titles)."""
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=30, t=70, b=40))
    return fig


def label_histogram(class_names, train_counts, test_counts, groups, log: bool = False) -> go.Figure:
    """Training counts sorted by frequency, coloured by shot group, next to the balanced test set;
    both panels share one count axis (linear from 0, or log with ticks 1, 10, 100), so the test
    set's bars compare with the training set's."""
    order = frequency_order(train_counts)
    names = [str(class_names[k]) for k in order]
    fig = make_subplots(1, 2, column_widths=[0.62, 0.38], horizontal_spacing=0.08, shared_yaxes=True,
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
    counts = [*train_counts, *test_counts]
    if log:
        axis = log_axis(counts)
        axis["range"][0] = min(axis["range"][0], -0.1)  # bars start at 1 image, so 1 stays in view
        axis["tickvals"], axis["ticktext"] = log_ticks(10 ** axis["range"][0], 10 ** axis["range"][1])
    else:
        axis = dict(type="linear", range=[0, 1.05 * max(counts, default=1)])
    fig.update_yaxes(**axis)
    fig.update_yaxes(title="images" + (" (log scale)" if log else ""), row=1, col=1)
    return _layout(fig, "How many images each class has")


def gallery_image(images: np.ndarray, labels: np.ndarray, class_names, order, per_class: int = 8):
    """A mosaic picture (PIL RGB image): one row per class (the first GALLERY_CLASSES of `order`, its
    name on the left), up to `per_class` training images; blanks show how few images the tail has. `images` is uint8
    (N, C, H, W); small images are enlarged (nearest pixel) to about 40 px. A picture, not a
    plotly chart: the page shows it as one <img>, where a plotly image trace cost about as much
    browser time as a whole chart on every visit of the Data page (docs/benchmarks.md, "Page latency")."""
    from PIL import Image, ImageDraw, ImageFont

    order = list(order)[:GALLERY_CLASSES]
    n, c, h, w = images.shape
    mosaic = np.full((len(order) * (h + 1), per_class * (w + 1), 3), 255, dtype=np.uint8)
    for row, k in enumerate(order):
        picks = images[labels == k][:per_class]
        for col, img in enumerate(picks):
            rgb = 255 - np.repeat(img, 3, 0) if c == 1 else img[:3]   # grey images as dark ink on white
            mosaic[row * (h + 1):row * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = rgb.transpose(1, 2, 0)
    scale = max(1, round(40 / h))
    grid = Image.fromarray(mosaic, "RGB").resize((mosaic.shape[1] * scale, mosaic.shape[0] * scale), Image.NEAREST)
    font = ImageFont.load_default(size=14)
    names = [str(class_names[k]) for k in order]
    margin = 12 + max((int(font.getlength(name)) for name in names), default=0)
    picture = Image.new("RGB", (margin + grid.width, grid.height), "white")
    picture.paste(grid, (margin, 0))
    draw = ImageDraw.Draw(picture)
    for row, name in enumerate(names):
        draw.text((margin - 8, (row * (h + 1) + h / 2) * scale), name, fill="#334155", font=font, anchor="rm")
    return picture


GALLERY_CLASSES = 40
"""Classes a gallery shows at most (the most frequent first): a folder of 10,000 classes would be a
picture hundreds of thousands of pixels tall (or 2,000 rows of subplots)."""


def signal_gallery(signals: np.ndarray, labels: np.ndarray, class_names, order, per_class: int = 8) -> go.Figure:
    """1-D signals (MNIST-1D): one small panel per class (in `order`), up to `per_class` training
    signals drawn over each other in the class's own colour (CLASS_COLORS: ten classes, ten colours);
    a tail panel with few lines shows how little the tail has."""
    cols = 5
    order = list(order)[:GALLERY_CLASSES]
    rows = -(-len(order) // cols)
    counts = [int((labels == k).sum()) for k in order]
    fig = make_subplots(rows, cols, shared_xaxes=True, shared_yaxes=True, vertical_spacing=0.12,
                        subplot_titles=[f"{plain(class_names[k])} (n={n})" for k, n in zip(order, counts)])
    t = np.arange(signals.shape[1])
    for i, k in enumerate(order):
        for sig in signals[labels == k][:per_class]:
            fig.add_scatter(x=t, y=sig, mode="lines", line=dict(width=1, color=class_color(k)),
                            opacity=0.6, showlegend=False, hoverinfo="skip", row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(showticklabels=False)
    return _layout(fig, f"Training signals per class (up to {per_class}; most → least frequent)",
                   height=max(300, 170 * rows))


def scatter_2d(x: np.ndarray, y: np.ndarray, class_names) -> go.Figure:
    """2-D training points coloured by class (tail classes drawn last, so on top)."""
    fig = go.Figure()
    counts = [int((y == k).sum()) for k in range(len(class_names))]
    for k in frequency_order(counts):
        pts = x[y == k]
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"{class_names[k]} ({len(pts)})",
                        marker=dict(size=5, color=class_color(k), symbol=class_symbol(k), opacity=0.7))
    fig.update_yaxes(scaleanchor="x")
    return _layout(fig, "Training points", height=420)


CURVE_PANELS = (("loss", "training loss"), ("balanced_acc", "balanced accuracy (test)"),
                ("few_acc", "few-shot accuracy (test)"))


def training_curves(groups: list[tuple[str, list[list[dict]]]], panels=CURVE_PANELS) -> go.Figure:
    """Loss, balanced and few-shot accuracy per epoch, one colour per configuration; a
    configuration run over several seeds is one line (the mean) inside a band (± one std)."""
    from ltcore.metrics.seeds import history_band

    fig = make_subplots(1, len(panels), subplot_titles=[t for _, t in panels], horizontal_spacing=0.07)
    lengths = [max((len(h) for h in histories), default=0) for _, histories in groups]
    mode = curve_mode(len(panels) * sum(lengths))
    for i, (label, histories) in enumerate(groups):
        color = run_color(i)
        several = len(histories) > 1
        name = f"{label} ({len(histories)} seeds, mean ± std)" if several else label
        for col, (key, _) in enumerate(panels, start=1):
            band = history_band(histories, key)
            if several:
                fig.add_scatter(x=band["epoch"] + band["epoch"][::-1], y=band["high"] + band["low"][::-1],
                                fill="toself", fillcolor=_faded(color), line=dict(width=0), hoverinfo="skip",
                                legendgroup=label, showlegend=False, row=1, col=col)
            fig.add_scatter(x=band["epoch"], y=band["mean"], mode=mode if len(band["epoch"]) > 1 else "lines+markers",
                            name=name, legendgroup=label,
                            showlegend=col == 1, line=dict(color=color, dash=run_dash(i)), marker=dict(size=4),
                            customdata=band["std"], hovertemplate=f"{plain(label)}: %{{y:.3f}}"
                            + (" ± %{customdata:.3f}" if several else "") + "<extra></extra>", row=1, col=col)
    fig.update_xaxes(title="epoch")
    for col, (key, _) in enumerate(panels, start=1):
        if key.endswith("acc"):
            fig.update_yaxes(**PCT, row=1, col=col)
        if not any(row.get(key) is not None for _, histories in groups for h in histories for row in h):
            empty_panel(fig, NO_FEW if key == "few_acc" else "no values yet", col)
    return _layout(fig, "Training progress", height=320)


def empty_panel(fig: go.Figure, text: str, col: int = 1) -> None:
    """Say in words why a panel has nothing to draw (instead of a blank frame with a meaningless axis)."""
    suffix = "" if col == 1 else str(col)
    fig.add_annotation(text=text, xref=f"x{suffix} domain", yref=f"y{suffix} domain", x=0.5, y=0.5,
                       showarrow=False, font=dict(color="#475569"))
    fig.update_yaxes(range=[0, 1.02], row=1, col=col)


def _faded(color: str, alpha: float = 0.18) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _error(r, key: str, order=None, group=None) -> dict | None:
    """Error bars (± std over seeds) of a SeedSummary's metric; None for a single run."""
    std = getattr(r, "std", None) if not isinstance(r, dict) else None
    if not std or key not in std or getattr(r, "n", 1) < 2:
        return None
    values = std[key]
    values = [values.get(g) for g in group] if group else [values[k] for k in order]
    return dict(type="data", array=[v if v is not None else 0 for v in values], visible=True, thickness=1.2)


def per_class_accuracy(results, labels) -> go.Figure:
    """Per-class test accuracy of each run (or mean ± std of each seed group), classes sorted by
    training frequency (of the first run), with the training counts on a second axis."""
    counts = results[0].class_counts
    order = frequency_order(counts)
    names = [str(results[0].class_names[k]) for k in order]
    tests = test_counts(results[0])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    wilson = False
    for i, (r, label) in enumerate(zip(results, labels)):
        y = [r.per_class_acc[k] for k in order]
        error = _error(r, "per_class_acc", order=order)
        if error is None:
            error, few = _wilson_error(r, order, y)
            wilson |= few
        fig.add_bar(x=names, y=y, name=label, marker=run_bar(i), error_y=error, secondary_y=False,
                    customdata=[tests[k] if tests else None for k in order],
                    hovertemplate=f"{plain(label)}, class %{{x}}: %{{y:.1%}} of %{{customdata}} test images"
                                  "<extra></extra>")
    seen = []
    for r in results:
        if r.class_counts not in seen:
            seen.append(r.class_counts)
            fig.add_scatter(x=names, y=[r.class_counts[k] for k in order], mode="lines+markers",
                            name="training images" + (f" ({ratio_text(r.config.profile, r.config.ratio, own_ratio(r))})"
                                                        if len(results) > 1 else ""),
                            line=dict(color="#475569", dash="dot"), secondary_y=True)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent), n = its test images", **_test_ticks(names, order, tests))
    fig.update_yaxes(title="test accuracy", range=[0, 1.02], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title="training images", rangemode="tozero", showgrid=False, tickmode="auto",
                     secondary_y=True)
    fig.update_layout(barmode="group")
    title = "Per-class accuracy, classes sorted by training frequency"
    if wilson:
        title += (f"<br><sup>bars on classes with < {FEW_TEST_IMAGES} test images: Wilson 95 % interval of the "
                  "accuracy</sup>")
    return _layout(fig, title)


def _test_ticks(names: list[str], order: list[int], tests: list[int]) -> dict:
    """Category tick labels with the test images behind each class ("3 (n=400)"; tick text is
    escaped as data, so no markup)."""
    if not tests:
        return {}
    return dict(tickmode="array", tickvals=names, ticktext=[f"{n} (n={tests[k]})" for n, k in zip(names, order)])


def _wilson_error(r, order: list[int], y: list) -> tuple[dict | None, bool]:
    """Asymmetric error bars of a single run's per-class accuracy: the Wilson 95 % interval where a
    class has fewer than FEW_TEST_IMAGES test images (none elsewhere); (None, False) if no class does."""
    if getattr(r, "n", 1) > 1:
        return None, False
    cis = class_wilson(r)
    if not any(ci is not None for ci in cis):
        return None, False
    up = [cis[k][1] - v if cis[k] is not None and v is not None else 0 for k, v in zip(order, y)]
    down = [v - cis[k][0] if cis[k] is not None and v is not None else 0 for k, v in zip(order, y)]
    return dict(type="data", symmetric=False, array=up, arrayminus=down, visible=True, thickness=1.2), True


def shot_accuracy(results, labels) -> go.Figure:
    """Many/medium/few-shot accuracy as grouped bars, one bar per run (± std for seed groups)."""
    fig = go.Figure()
    groups = ["many", "medium", "few"]
    images = group_test_counts(results[0]) if results else {}
    for i, (r, label) in enumerate(zip(results, labels)):
        fig.add_bar(x=groups, y=[r.shot_acc.get(g) for g in groups], name=label, marker=run_bar(i),
                    error_y=_error(r, "shot_acc", group=groups), customdata=[images.get(g) for g in groups],
                    hovertemplate=f"{plain(label)}, %{{x}}: %{{y:.1%}} of %{{customdata}} test images<extra></extra>")
    if images:
        fig.update_xaxes(tickmode="array", tickvals=groups,
                         ticktext=[f"{g} (n={images[g]})" if g in images else g for g in groups])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="mean per-class accuracy", range=[0, 1.02], tickformat=".0%")
    for g in groups:
        if all(r.shot_acc.get(g) is None for r in results):
            fig.add_annotation(x=g, y=0.5, text=NO_FEW if g == "few" else f"no {g}-shot class",
                               showarrow=False, textangle=-90 if len(results) > 3 else 0, font=dict(color="#475569"))
    rule = results[0].shot_rule if results else ""
    return _layout(fig, f"Many / medium / few-shot accuracy<br><sup>{rule}</sup>")


def change_intervals(members: list, base_members: list, order: list[int]) -> list:
    """Per class (in `order`): the 95 % interval of the change against the baseline
    (`ltcore.metrics.comparison.change`: paired t over the seeds both share, else a bootstrap over
    the class's test images), or None where none can be computed."""
    from ltcore.metrics.comparison import change

    return [change(members, base_members, k) for k in order]


def accuracy_change(results, labels, baseline, baseline_label: str = "the baseline", members=None,
                    base_members=None) -> go.Figure:
    """Per-class accuracy of each run minus the baseline run's, in percentage points, classes by
    training frequency; the title names the baseline. Given each entry's runs (`members[i]`, one per
    seed; `base_members` the baseline's), every bar carries the 95 % interval of its change (paired t
    over seeds, or a bootstrap over the class's test images for single runs) and a bar whose
    interval contains 0 is drawn pale and hatched: "not distinguishable at these seeds"."""
    from ltcore.metrics.statistics import NOT_DISTINGUISHABLE

    order = frequency_order(baseline.class_counts)
    names = [str(baseline.class_names[k]) for k in order]
    fig = go.Figure()
    methods, blurred = set(), 0
    for i, (r, label) in enumerate(zip(results, labels)):
        if r is baseline:
            continue
        y = [_points(r.per_class_acc[k], baseline.per_class_acc[k]) for k in order]
        error, marker, notes = None, run_bar(i), [""] * len(order)
        if members is not None and base_members is not None:
            cis = change_intervals(members[i], base_members, order)
            if any(ci is not None and ci.low is not None for ci in cis):
                error = dict(type="data", symmetric=False, visible=True, thickness=1.2,
                             array=[max(0.0, 100 * ci.high - v) if ci and ci.low is not None and v is not None else 0
                                    for ci, v in zip(cis, y)],
                             arrayminus=[max(0.0, v - 100 * ci.low) if ci and ci.low is not None and v is not None
                                         else 0 for ci, v in zip(cis, y)])
                methods |= {ci.method.split(" over ")[0] for ci in cis if ci and ci.low is not None}
                same = [ci is not None and ci.distinguishable is False for ci in cis]
                blurred += sum(same)
                marker = dict(marker, opacity=[0.4 if s else 1.0 for s in same],
                              pattern=dict(shape=["x" if s else marker.get("pattern", {}).get("shape", "")
                                                  for s in same]))
                notes = [f" [{100 * ci.low:+.1f}, {100 * ci.high:+.1f}]" + (f" — {NOT_DISTINGUISHABLE}" if s else "")
                         if ci and ci.low is not None else "" for ci, s in zip(cis, same)]
        fig.add_bar(x=names, y=y, name=label, marker=marker, error_y=error, customdata=notes,
                    hovertemplate=f"{plain(label)}, class %{{x}}: %{{y:+.1f}} points%{{customdata}}<extra></extra>")
    fig.add_hline(y=0, line_color="#475569")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent)")
    fig.update_yaxes(title=f"change against {plain(baseline_label)} (points)", tickformat="+.0f", ticksuffix=" pts")
    fig.update_layout(barmode="group")
    title = f"Change in per-class accuracy against {baseline_label}, in percentage points"
    if methods:
        how = " / ".join(sorted({"paired t": "paired t over seeds", "bootstrap": "bootstrap over test images"}.get(
            m, m) for m in methods))
        title += (f"<br><sup>bars: 95 % interval of the change ({how}); pale hatched bars ({blurred}): "
                  f"{NOT_DISTINGUISHABLE}</sup>")
    return _layout(fig, title)


def _points(value, base) -> float | None:
    """value − base as percentage points (None when either is undefined)."""
    return None if value is None or base is None else 100 * (value - base)
