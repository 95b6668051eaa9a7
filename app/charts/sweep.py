"""Figures of a sweep: accuracy against the imbalance ratio ρ (log axis) per method with ±std bands
over seeds, the method × ratio heatmap of the gain over plain `ce`, and accuracy against a searched
parameter. Accuracies stay fractions in the figure data (axes formatted as %)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.charts.base import PALETTE, PCT, _layout, log_axis
from app.logic.plaintext import plain
from app.logic.tables import NO_FEW


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def accuracy_vs_ratio(summary: pd.DataFrame, metric: str, title: str) -> go.Figure:
    """Mean `metric` against ρ per method (log x with whole-number ticks), a band of ± one std over
    seeds around it. Ratios where the metric is undefined (no few-shot class at that ρ) are left
    out and named; a method with one defined ratio is a point, and the subtitle says so."""
    fig = go.Figure()
    notes, lone = [], []
    undefined = sorted({float(r) for r, part in summary.groupby("ratio") if part[metric].isna().all()})
    if undefined and metric == "few_acc":
        notes.append(NO_FEW.replace("at this ρ", "at ρ = " + ", ".join(f"{r:g}" for r in undefined)))
    for i, (method, part) in enumerate(summary.groupby("method", sort=False)):
        part = part[part[metric].notna()].sort_values("ratio")
        if part.empty:
            continue
        color = PALETTE[i % len(PALETTE)]
        x, mean = part["ratio"].tolist(), part[metric].tolist()
        std = part[f"{metric}_std"].fillna(0).tolist()
        if len(x) > 1:
            fig.add_trace(go.Scatter(x=x + x[::-1], y=[m + s for m, s in zip(mean, std)]
                                     + [m - s for m, s in zip(mean, std)][::-1], fill="toself",
                                     fillcolor=_rgba(color, 0.15), line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup=method, name=f"{method} ± std"))
        else:
            lone.append(method)
        fig.add_trace(go.Scatter(x=x, y=mean, mode="lines+markers" if len(x) > 1 else "markers", name=method,
                                 legendgroup=method, line=dict(color=color), marker=dict(size=8 if len(x) == 1 else 6),
                                 customdata=std, error_y=dict(type="data", array=std, visible=True) if len(x) == 1
                                 else None,
                                 hovertemplate=f"{plain(method)}<br>ρ=%{{x:g}}<br>%{{y:.2%}} ± %{{customdata:.2%}}"
                                               "<extra></extra>"))
    if lone:
        notes.append(f"one ρ only (a point, ± std as a bar): {', '.join(lone)}")
    fig.update_xaxes(**log_axis(summary["ratio"].tolist()), title="imbalance ratio ρ = n_max / n_min (log scale)")
    fig.update_yaxes(title=title, **PCT)
    head = f"{title} against the imbalance ratio (mean ± std over seeds)"
    return _layout(fig, head + "".join(f"<br><sup>{n}</sup>" for n in notes), height=380 + 18 * len(notes))


def gain_heatmap(gain: pd.DataFrame, metric_label: str = "balanced accuracy") -> go.Figure:
    """Rows: methods; columns: ρ; cells: the method's mean minus ce's, in percentage points."""
    z = (gain.to_numpy() * 100).round(2)
    bound = max(float(abs(z).max()), 0.5) if z.size else 1.0
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=[f"ρ={r:g}" for r in gain.columns], y=list(gain.index),
                               colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound,
                               text=[[f"{v:+.1f}" for v in row] for row in z], texttemplate="%{text}",
                               colorbar=dict(title="pts"),
                               hovertemplate="%{y} at %{x}: %{z:+.2f} points over ce<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"Gain in {metric_label} over ce (percentage points, mean over seeds)",
                   height=max(260, 60 + 40 * len(gain.index)))


def accuracy_vs_param(summary: pd.DataFrame, name: str, objective: str) -> go.Figure:
    """Validation (the search's objective) and test balanced accuracy against the searched parameter."""
    fig = go.Figure()
    for i, ((method, ratio), part) in enumerate(summary.groupby(["method", "ratio"], sort=False)):
        part = part.sort_values(name)
        color = PALETTE[i % len(PALETTE)]
        label = f"{method} ρ={ratio:g}"
        if objective in part and part[objective].notna().any():
            fig.add_trace(go.Scatter(x=part[name], y=part[objective], mode="lines+markers",
                                     name=f"{label} · validation", line=dict(color=color)))
        fig.add_trace(go.Scatter(x=part[name], y=part["balanced_acc"], mode="lines+markers", name=f"{label} · test",
                                 line=dict(color=color, dash="dot")))
    fig.update_xaxes(title=name)
    fig.update_yaxes(title="balanced accuracy", **PCT)
    return _layout(fig, f"Balanced accuracy against {plain(name)} (the best value is chosen on validation)")
