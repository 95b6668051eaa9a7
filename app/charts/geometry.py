"""Chart builders for neural collapse (Papyan et al. PNAS'20) and minority collapse (Fang et al.
PNAS'21): pure functions of the metrics the core stored with each run."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ltcore.metrics.seeds import mean_std

from app.charts.base import (GROUP_COLORS, _faded, _layout, class_color, class_symbol, curve_mode, frequency_order,
                             log_axis, run_color, run_dash, zero_floor)
from app.logic.plaintext import plain

NC_PANELS = [
    ("NC1: within-class variability Tr(Σ_W Σ_B⁺)/K", [("nc1", "NC1")]),
    ("NC2: equal norms (thick) and angles (thin) of the means", [("nc2_equinorm_means", "equinorm"),
                                                                  ("nc2_equiangular", "equiangular")]),
    ("NC3: classifier ∥ class means (self-duality)", [("nc3", "NC3")]),
    ("NC4: net ≠ nearest class mean (fraction of samples)", [("nc4", "NC4")]),
]


def _nc_rows(seeds: list) -> list[dict]:
    """One NC history for a configuration: per epoch that every seed measured, the mean of each
    measure over the seeds, and its sample std under "<key>_std" (one seed: its own history)."""
    histories = [r.extras.get("nc_history") or [] for r in seeds]
    if len(histories) == 1:
        return histories[0]
    by_epoch = [{h["epoch"]: h for h in rows} for rows in histories]
    common = sorted(set.intersection(*(set(e) for e in by_epoch)))
    out = []
    for epoch in common:
        row = {"epoch": epoch}
        for key in {k for _, series in NC_PANELS for k, _ in series}:
            mean, std = mean_std(rows[epoch].get(key) for rows in by_epoch)
            row[key], row[f"{key}_std"] = mean, std
        out.append(row)
    return out


def nc_history(results, labels, panels: list[int] | None = None, members: list | None = None) -> go.Figure:
    """NC1–NC4 on log axes, as Papyan et al. plot them (they fall by orders of magnitude as the
    features collapse), ticks at 1, 0.1, 0.01 ...; a value of exactly 0 (NC4 once the network
    agrees with the nearest class mean on every sample) is drawn at the panel's floor as an open
    marker in its run's colour, with a note, instead of falling off the log axis. A run is one colour
    and dash in every panel and one legend entry; NC2's two series are its thick (equal norms) and
    thin (equal angles) line. With many runs
    the curves are lines without a marker per epoch (`charts.curve_mode`: ten runs' markers were
    about 40 % of this chart's drawing time in the browser); the zeros keep theirs, one trace per panel.
    `panels`: which of NC1–NC4 (indices into NC_PANELS) to draw, default all four in a 2×2 grid; one
    panel is one plot (the Geometry page draws one at a time: with ten runs the four panels cost
    the browser about twice what one does). `members`: the seeds' results of each entry; a
    configuration of several seeds is then its mean per epoch inside a band of ± one std."""
    chosen = [NC_PANELS[i] for i in (range(len(NC_PANELS)) if panels is None else panels)]
    grid = len(chosen) > 1
    fig = make_subplots(2 if grid else 1, 2 if grid else 1, subplot_titles=[t for t, _ in chosen],
                        vertical_spacing=0.14, horizontal_spacing=0.08)
    histories = [_nc_rows(members[i] if members is not None else [r]) for i, r in enumerate(results)]
    points = sum(len(h) * len(series) for h in histories for _, series in NC_PANELS)
    mode = curve_mode(points)
    for p, (_, series) in enumerate(chosen):
        row, col = p // 2 + 1, p % 2 + 1
        values = [h.get(key) for rows in histories for h in rows for key, _ in series]
        zeros = any(v == 0 for v in values)
        floor = zero_floor(values) if zeros else None
        at_floor = []  # (epoch, run label and series, colour) of every 0 in this panel
        for i, (rows, label) in enumerate(zip(histories, labels)):
            epochs = [h["epoch"] for h in rows]
            for s, (key, name) in enumerate(series):
                ys = [h.get(key) for h in rows]
                spread = [h.get(f"{key}_std") for h in rows]
                if any(spread) and all(v is not None and v > 0 for v in ys):  # a band of ± one std over seeds
                    low = [max(v - (d or 0.0), v / 10) for v, d in zip(ys, spread)]   # kept > 0 on a log axis
                    high = [v + (d or 0.0) for v, d in zip(ys, spread)]
                    fig.add_scatter(x=epochs + epochs[::-1], y=high + low[::-1], fill="toself", hoverinfo="skip",
                                    fillcolor=_faded(run_color(i)), line=dict(width=0), legendgroup=label,
                                    showlegend=False, row=row, col=col)
                trace_mode = mode if len(rows) > 1 else "lines+markers"
                fig.add_scatter(x=epochs, y=[floor if v == 0 else v for v in ys], mode=trace_mode,
                                name=label if len(series) == 1 else f"{label}: {name}", legendgroup=label,
                                showlegend=p == 0,
                                marker=dict(size=[9 if v == 0 else 4 for v in ys],
                                            symbol=["circle-open" if v == 0 else "circle" for v in ys])
                                if trace_mode != "lines" else None,
                                customdata=ys, hovertemplate=f"{plain(label)}: %{{customdata:.3g}}<extra></extra>",
                                line=dict(color=run_color(i), dash=run_dash(i), width=2 if s == 0 else 1),
                                row=row, col=col)
                if trace_mode == "lines":
                    at_floor += [(e, label if len(series) == 1 else f"{label}: {name}", run_color(i))
                                 for e, v in zip(epochs, ys) if v == 0]
        if at_floor:
            epochs, names, colors = zip(*at_floor)
            fig.add_scatter(x=list(epochs), y=[floor] * len(epochs), mode="markers", showlegend=False,
                            marker=dict(size=9, symbol="circle-open", color=list(colors)), customdata=list(names),
                            hovertemplate="%{customdata}: 0<extra></extra>", row=row, col=col)
        fig.update_yaxes(**log_axis(values, floor), row=row, col=col)
        if zeros:
            fig.add_annotation(text=f"○ = 0, drawn at {floor:g} (log axes have no 0)", showarrow=False,
                               xref="x domain" if p == 0 else f"x{p + 1} domain",
                               yref="y domain" if p == 0 else f"y{p + 1} domain", x=1, y=1,
                               xanchor="right", yanchor="top", font=dict(size=11, color="#475569"))
    fig.update_xaxes(title="epoch", row=2 if grid else 1)
    return _layout(fig, "Neural collapse over training (lower = more collapsed)", height=600 if grid else 380)


def _seed_mean(rows: list) -> tuple[list[float], list[float]]:
    """Element-wise mean and sample std over seeds of equally long lists (std 0 for one seed)."""
    means, stds = [], []
    for values in zip(*rows):
        mean, std = mean_std(values)
        means.append(mean)
        stds.append(std or 0.0)
    return means, stds


def norms_vs_frequency(result, label: str = "", seeds: list | None = None) -> go.Figure:
    """‖μ_k − μ_G‖ and ‖w_k‖ per class, classes from most to least frequent, with their counts:
    minority collapse shows as tail classifier rows that shrink. With `seeds` (the results of one
    configuration over several seeds, `result` the first), the bars are the mean over the seeds
    with ± one std (the profile fixes the class counts, so the classes line up)."""
    mc = result.extras["minority_collapse"]
    order = mc["order"]
    names = [str(result.class_names[k]) for k in order]
    colors = [GROUP_COLORS.get(result.shot_groups[k], "#64748b") for k in order]
    several = [r.extras["minority_collapse"] for r in seeds or [] if "minority_collapse" in r.extras]
    several = several if len(several) > 1 else []
    fig = make_subplots(1, 2, specs=[[{"secondary_y": True}, {"secondary_y": True}]],
                        subplot_titles=("class-mean norms ‖μ_k − μ_G‖", "classifier norms ‖w_k‖"),
                        horizontal_spacing=0.16)
    for col, key in ((1, "mean_norms_sorted"), (2, "weight_norms_sorted")):
        if mc.get(key) is not None:
            values, error = mc[key], None
            if several and all(m.get(key) is not None for m in several):
                values, std = _seed_mean([m[key] for m in several])
                error = dict(type="data", array=std, visible=True, thickness=1.2)
            fig.add_bar(x=names, y=values, marker_color=colors, name="norm", showlegend=False, error_y=error,
                        row=1, col=col, secondary_y=False)
        fig.add_scatter(x=names, y=mc["counts_sorted"], mode="lines+markers", name="training images",
                        line=dict(color="#475569", dash="dot"), showlegend=col == 1,
                        row=1, col=col, secondary_y=True)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                     title="class (most → least frequent)")
    fig.update_yaxes(title="norm", secondary_y=False)
    fig.update_yaxes(title="training images", showgrid=False, rangemode="tozero", tickmode="auto",
                     secondary_y=True)
    who = f"{plain(label)}: n" if label else "N"
    spread = f" · mean ± std over {len(several)} seeds" if several else ""
    return _layout(fig, f"{who}orms against class frequency (bar colour = many / medium / few){spread}")


def ideal_etf_cosines(k: int) -> list[list[float]]:
    """Cosines of a simplex ETF: 1 on the diagonal, −1/(K−1) elsewhere (Papyan et al. Def. 1)."""
    return [[1.0 if i == j else -1.0 / (k - 1) for j in range(k)] for i in range(k)]


def cosine_heatmaps(result, label: str = "", seeds: list | None = None) -> go.Figure:
    """Cosines between centred class means, between classifier rows, and the ideal simplex ETF.
    With `seeds` (one configuration's results over several seeds, `result` the first), each cell
    is the mean over the seeds, its std in the hover."""
    nc = result.extras["neural_collapse"]
    order = frequency_order(result.class_counts)
    names = [str(result.class_names[k]) for k in order]
    k = len(order)
    several = [r.extras["neural_collapse"] for r in seeds or [] if "neural_collapse" in r.extras]
    several = several if len(several) > 1 else []

    def matrix(key):
        if not several or any(n.get(key) is None for n in several):
            return nc.get(key), None
        flat = [[value for row in n[key] for value in row] for n in several]
        mean, std = _seed_mean(flat)
        return [mean[i * k:(i + 1) * k] for i in range(k)], [std[i * k:(i + 1) * k] for i in range(k)]

    panels = [("class means", *matrix("mean_cosine")), ("classifier rows", *matrix("weight_cosine")),
              ("ideal simplex ETF", ideal_etf_cosines(k), None)]
    panels = [p for p in panels if p[1] is not None]
    fig = make_subplots(1, len(panels), subplot_titles=[t for t, *_ in panels], horizontal_spacing=0.05)
    for col, (title, values, std) in enumerate(panels, start=1):
        z = [[values[i][j] for j in order] for i in order]
        extra = {}
        hover = f"{title}: cos(%{{y}}, %{{x}}) = %{{z:.2f}}"
        if std is not None:
            extra["customdata"] = [[std[i][j] for j in order] for i in order]
            hover += " ± %{customdata:.2f}"
        fig.add_heatmap(z=z, x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                        showscale=col == len(panels), hovertemplate=hover + "<extra></extra>", row=1, col=col,
                        **extra)
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed", scaleanchor=None)
    who = f"{plain(label)}: c" if label else "C"
    ideal = f"ideal off-diagonal −1/(K−1) = {-1 / (k - 1):.2f}"
    spread = f"; mean over {len(several)} seeds" if several else ""
    return _layout(fig, f"{who}osines, classes by training frequency ({ideal}{spread})", height=400)


AXES = ("PC1", "PC2", "PC3")


def _frame_traces(frame: dict, class_names, dim: int, order: list[int]) -> list:
    """Points per class (head first, so tail classes are drawn on top, larger), class means as
    labelled ✕ in their class colour, and classifier directions (lines from the centre)."""
    scatter = go.Scatter3d if dim == 3 else go.Scatter
    pts, labels = frame["points"], frame["labels"]
    tail = set(order[len(order) // 2:])
    traces = []
    for c in order:
        sel = [p for p, y in zip(pts, labels) if y == c]
        coords = {axis: [p[a] for p in sel] for a, axis in enumerate("xyz"[:dim])}
        size = (4 if c in tail else 3) if dim == 3 else (7 if c in tail else 5)
        traces.append(scatter(**coords, mode="markers", name=str(class_names[c]), legendgroup=str(class_names[c]),
                              marker=dict(size=size, color=class_color(c), opacity=0.85 if c in tail else 0.55,
                                          **({} if dim == 3 else {"symbol": class_symbol(c)}))))
    means = frame.get("means") or []
    shown = [c for c in order if c < len(means) and means[c] is not None]
    text_dim = {} if dim == 3 else {"textfont": dict(size=13)}
    traces.append(scatter(**{axis: [means[c][a] for c in shown] for a, axis in enumerate("xyz"[:dim])},
                          mode="markers+text", name="class means", text=[str(class_names[c]) for c in shown],
                          textposition="top center", **text_dim,
                          marker=dict(symbol="x", size=8 if dim == 3 else 14, color=[class_color(c) for c in shown],
                                      line=dict(width=1.5, color="#0f172a"))))
    lines = {axis: [] for axis in "xyz"[:dim]}
    for w in frame.get("classifier") or []:
        for a, axis in enumerate("xyz"[:dim]):
            lines[axis] += [0.0, w[a], None]
    traces.append(scatter(**lines, mode="lines", name="classifier directions",
                          line=dict(color="#0f172a", width=2, dash="solid" if dim == 3 else "dot")))
    return traces


def _moving(traces: list, dim: int) -> list[dict]:
    """What an animation frame changes of each trace: its coordinates only, to 4 significant
    digits (plotly keeps the style of the figure's own traces). A full copy of every trace per
    frame made the Geometry scatter's figure 140 KB and its drawing slower in the browser."""
    return [{"type": t.type, **{axis: [None if v is None else float(f"{v:.4g}") for v in getattr(t, axis)]
                                for axis in "xyz"[:dim]}} for t in traces]


def feature_scatter(frames: list[dict], class_names, dim: int = 2, counts=None) -> go.Figure:
    """Penultimate features projected on one PCA basis for all epochs (axes PC1–PC3), with an
    epoch slider and play/pause buttons beside it (plotly frames). `frames` come from
    ltcore.metrics.project_snapshots; `counts` (training images per class) order the classes so
    the tail is drawn on top."""
    order = frequency_order(counts) if counts else list(range(len(class_names)))
    last = frames[-1]
    fig = go.Figure(data=_frame_traces(last, class_names, dim, order),
                    frames=[go.Frame(data=_moving(_frame_traces(f, class_names, dim, order), dim), name=str(f["epoch"]))
                            for f in frames])
    values = [v for f in frames for p in f["points"] + [m for m in (f.get("means") or []) if m] +
              (f.get("classifier") or []) for v in p]
    reach = max((abs(v) for v in values), default=1.0) * 1.1
    steps = [dict(method="animate", label=str(f["epoch"]),
                  args=[[str(f["epoch"])], dict(mode="immediate", frame=dict(duration=0, redraw=dim == 3),
                                                transition=dict(duration=0))]) for f in frames]
    play = dict(label="▶ play", method="animate",
                args=[None, dict(frame=dict(duration=600, redraw=dim == 3), fromcurrent=True,
                                 transition=dict(duration=300))])
    pause = dict(label="❚❚ pause", method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))])
    # buttons on the left, the slider to their right: side by side, never on top of each other
    fig.update_layout(sliders=[dict(active=len(frames) - 1, steps=steps, currentvalue=dict(prefix="epoch "),
                                    x=0.2, len=0.8, y=0, yanchor="top", pad=dict(t=30))],
                      updatemenus=[dict(type="buttons", buttons=[play, pause], direction="left", x=0, y=0,
                                        xanchor="left", yanchor="top", pad=dict(t=60, r=10), showactive=False)])
    ratio = ", ".join(f"{a} {v:.0%}" for a, v in zip(AXES, last.get("explained_variance_ratio", [])))
    if dim == 3:
        fig.update_scenes(xaxis=dict(range=[-reach, reach], title="PC1"),
                          yaxis=dict(range=[-reach, reach], title="PC2"),
                          zaxis=dict(range=[-reach, reach], title="PC3"), aspectmode="cube")
    else:
        fig.update_xaxes(range=[-reach, reach], title="PC1")
        fig.update_yaxes(range=[-reach, reach], title="PC2", scaleanchor="x")
    _layout(fig, f"Features over training (PCA of the last epoch; variance explained: {ratio})", height=660)
    fig.update_layout(margin=dict(b=130))
    return fig
