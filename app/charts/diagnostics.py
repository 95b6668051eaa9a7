"""Chart builders for test-set diagnostics: confusion matrix, reliability diagram, τ-norm curve and
decision regions. Pure functions of RunResults (and grids the core computed)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ltcore.metrics.seeds import mean_std

from app.charts.base import _faded, _layout, class_color, class_symbol, frequency_order, run_color, run_dash
from app.logic.plaintext import plain


def confusion_matrix(result, label: str, normalized: bool = True) -> go.Figure:
    """Rows = true class, columns = predicted class, both sorted by training frequency."""
    order = frequency_order(result.class_counts)
    names = [str(result.class_names[k]) for k in order]
    source = result.confusion_matrix_normalized if normalized else result.confusion_matrix
    z = [[source[i][j] for j in order] for i in order]
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Blues", zmin=0,
                               zmax=1 if normalized else None, texttemplate="%{z:.2f}" if normalized else "%{z}",
                               hovertemplate="true %{y} → predicted %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title="predicted class", type="category")
    fig.update_yaxes(title="true class", autorange="reversed", type="category")
    what = "fraction of each true class" if normalized else "test images"
    return _layout(fig, f"Confusion matrix of {plain(label)} ({what})", height=460)


def reliability_diagram(results, labels, members=None) -> go.Figure:
    """Accuracy against mean confidence per confidence bin (Guo et al. 2017); the diagonal is perfect.
    One line per entry in its own colour; with `members` (the seeds' results of each entry) a line
    is the mean over seeds per bin inside a band of ± one std, and the legend gives ECE mean ± std."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(color="#94a3b8", dash="dash"))
    for i, (r, label) in enumerate(zip(results, labels)):
        seeds = members[i] if members is not None else [r]
        x, y, std, count = _reliability_mean([s.reliability for s in seeds])
        eces = [s.ece for s in seeds if s.metrics.get("ece") is not None]
        mean_ece, std_ece = mean_std(eces)
        ece = "" if mean_ece is None else f" (ECE {mean_ece:.3f}" + (f" ± {std_ece:.3f})" if len(eces) > 1 else ")")
        color = run_color(i)
        if len(seeds) > 1:
            fig.add_scatter(x=x + x[::-1], y=[m + s for m, s in zip(y, std)] + [m - s for m, s in zip(y, std)][::-1],
                            fill="toself", fillcolor=_faded(color), line=dict(width=0), hoverinfo="skip",
                            legendgroup=label, showlegend=False)
        fig.add_scatter(x=x, y=y, mode="lines+markers", name=label + ece, legendgroup=label,
                        line=dict(color=color, dash=run_dash(i)), customdata=count,
                        hovertemplate="confidence %{x:.2f}, accuracy %{y:.2f}, %{customdata} images<extra></extra>")
    fig.update_xaxes(title="confidence (max softmax)", range=[0, 1])
    fig.update_yaxes(title="accuracy", range=[0, 1])
    title = "Reliability diagram"
    if members is not None and any(len(m) > 1 for m in members):
        title += "<br><sup>a configuration over several seeds: mean per bin ± one std over its seeds</sup>"
    return _layout(fig, title)


def _reliability_mean(bins_of_seeds: list[dict]) -> tuple[list, list, list, list]:
    """Per confidence bin that some seed fills: mean confidence, mean accuracy, std of the accuracy
    over the seeds that fill it, and the images in it summed over seeds."""
    x, y, std, count = [], [], [], []
    for b in range(len(bins_of_seeds[0]["count"])):
        filled = [bins for bins in bins_of_seeds if bins["count"][b] > 0]
        if not filled:
            continue
        x.append(mean_std(bins["confidence"][b] for bins in filled)[0])
        acc, sd = mean_std(bins["accuracy"][b] for bins in filled)
        y.append(acc)
        std.append(sd or 0.0)
        count.append(sum(bins["count"][b] for bins in filled))
    return x, y, std, count


def tau_points(curve) -> tuple[list[float], dict[str, list]]:
    """(τ values, {metric: values}) from a τ-norm sweep: [[τ, balanced acc], ...] as the core stores
    it, or rows {tau, metric...}, or columns {tau: [...], metric: [...]}."""
    if isinstance(curve, dict):
        taus = list(curve.get("tau") or curve.get("taus") or [])
        return taus, {k: list(v) for k, v in curve.items()
                      if k not in ("tau", "taus") and isinstance(v, list) and len(v) == len(taus)}
    rows = list(curve or [])
    if rows and isinstance(rows[0], (list, tuple)):
        return [float(r[0]) for r in rows], {"balanced_acc": [float(r[1]) for r in rows]}
    taus = [row["tau"] for row in rows]
    keys = [k for k in (rows[0] if rows else {}) if k != "tau" and isinstance(rows[0][k], (int, float))]
    return taus, {k: [row.get(k) for row in rows] for k in keys}


def tau_curve(results, labels, members=None) -> go.Figure:
    """Accuracy against τ for τ-normalised classifiers w_k/‖w_k‖^τ (Kang et al. ICLR'20). With
    `members` (the seeds' results of each entry) an entry is the mean over its seeds at each τ inside
    a band of ± one std, and its picked τs are one dotted line each."""
    fig = go.Figure()
    dash = {"balanced_acc": "solid", "overall_acc": "dot", "many_acc": "dash", "few_acc": "dashdot"}
    for i, (r, label) in enumerate(zip(results, labels)):
        seeds = [m for m in (members[i] if members is not None else [r]) if m.extras.get("tau_curve")]
        curves = [tau_points(m.extras.get("tau_curve")) for m in seeds]
        taus = curves[0][0]
        color = run_color(i)
        for key in curves[0][1]:
            if not key.endswith("acc"):
                continue
            stats = [mean_std(c[1][key][j] for c in curves if key in c[1] and len(c[1][key]) > j)
                     for j in range(len(taus))]
            mean, std = [m for m, _ in stats], [sd or 0.0 for _, sd in stats]
            if len(curves) > 1:
                fig.add_scatter(x=taus + taus[::-1], y=[m + d for m, d in zip(mean, std)]
                                + [m - d for m, d in zip(mean, std)][::-1], fill="toself", fillcolor=_faded(color),
                                line=dict(width=0), hoverinfo="skip", legendgroup=label, showlegend=False)
            fig.add_scatter(x=taus, y=mean, mode="lines+markers", name=f"{label}: {key}", showlegend=True,
                            legendgroup=label, line=dict(color=color, dash=dash.get(key, "solid")))
        for tau in sorted({m.extras["tau"] for m in seeds if m.extras.get("tau") is not None}):
            fig.add_vline(x=tau, line_color=color, line_dash="dot", annotation_text=f"τ = {tau:g}")
    fig.update_xaxes(title="τ (0 = the plain classifier)")
    fig.update_yaxes(title="accuracy on the held-out split", tickformat=".1%")
    title = "τ-normalisation: the sweep that picks τ (on a split held out of training)"
    if members is not None and any(len(m) > 1 for m in members):
        title += "<br><sup>a configuration over several seeds: mean ± one std at each τ; dotted: each seed's τ</sup>"
    return _layout(fig, title)


def decision_regions(grids: list[dict], labels, class_names) -> go.Figure:
    """Side-by-side maps of the predicted class over the plane with the test points on top.
    Each grid: {xs, ys, pred (len(ys)×len(xs)), points (N×2), point_labels (N)}."""
    n = len(grids)
    fig = make_subplots(1, n, subplot_titles=[plain(label) for label in labels], horizontal_spacing=0.04,
                        shared_yaxes=True)
    k = len(class_names)
    scale = [[i / max(k - 1, 1), class_color(i)] for i in range(k)]
    for col, g in enumerate(grids, start=1):
        fig.add_heatmap(x=np.asarray(g["xs"]), y=np.asarray(g["ys"]), z=np.asarray(g["pred"], dtype=np.int16),
                        colorscale=scale, zmin=0, zmax=k - 1, opacity=0.35,
                        showscale=False, hoverinfo="skip", row=1, col=col)
        pts, y = np.asarray(g["points"]), np.asarray(g["point_labels"])
        for c, name in enumerate(class_names):
            sel = pts[y == c]
            fig.add_scatter(x=sel[:, 0], y=sel[:, 1], mode="markers", name=str(name), legendgroup=str(name),
                            showlegend=col == 1, marker=dict(size=3, color=class_color(c), symbol=class_symbol(c)),
                            row=1, col=col)
    fig.update_xaxes(constrain="domain")
    return _layout(fig, "Decision regions (shaded) and test points", height=420)
