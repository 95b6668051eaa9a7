"""What a reader of the charts notices: clean log ticks, zeros at the floor with a note, distinct
colour-blind-safe colours for classes and for runs, labelled class means, PC axes, play buttons
beside the slider, TensorBoard smoothing. Pure chart builders on hand-made numbers."""
from types import SimpleNamespace

import pytest

from app.charts import base as charts, geometry as charts_geometry, curves as charts_runs


def test_log_ticks_are_powers_of_ten_written_out_or_one_two_five_within_a_decade():
    assert charts.log_ticks(1, 180) == ([1.0, 10.0, 100.0], ["1", "10", "100"])
    assert charts.log_ticks(0.001, 2)[1] == ["0.001", "0.01", "0.1", "1"]
    assert charts.log_ticks(3, 50)[1] == ["2", "5", "10", "20", "50"]      # one decade: 1-2-5, in full


def test_histogram_log_toggle_shares_clean_ticks_and_one_range_across_both_panels():
    fig = charts.label_histogram(list("abc"), [500, 50, 5], [100, 100, 100], ["many", "medium", "few"], log=True)
    y1, y2 = fig.layout.yaxis, fig.layout.yaxis2
    assert y1.type == "log" and list(y1.ticktext) == ["1", "10", "100", "1,000"] and y2.matches == "y"
    assert y1.range[0] < 0 < y1.range[1]                               # 1 image is inside the axis
    linear = charts.label_histogram(list("abc"), [500, 50, 5], [100, 100, 100], ["many", "medium", "few"])
    assert linear.layout.yaxis.range == (0, 525) and linear.layout.yaxis2.matches == "y"


def nc_result(nc4):
    rows = [{"epoch": e + 1, "nc1": 1.0 / (e + 1), "nc2_equinorm_means": 0.1, "nc2_equiangular": 0.05,
             "nc3": 0.2, "nc4": v} for e, v in enumerate(nc4)]
    return SimpleNamespace(extras={"nc_history": rows})


def test_nc4_zeros_are_drawn_at_the_floor_with_a_note_not_dropped():
    fig = charts_geometry.nc_history([nc_result([0.04, 0.003, 0.0])], ["ce"])
    nc4 = [t for t in fig.data if t.yaxis == "y4"][0]
    assert list(nc4.y) == [0.04, 0.003, 0.001] and list(nc4.customdata) == [0.04, 0.003, 0.0]
    assert list(nc4.marker.symbol)[-1] == "circle-open"
    assert any("drawn at 0.001" in a.text for a in fig.layout.annotations)
    assert fig.layout.yaxis4.type == "log" and "0.001" in fig.layout.yaxis4.ticktext
    assert not any("drawn at" in a.text
                   for a in charts_geometry.nc_history([nc_result([0.1, 0.2])], ["ce"]).layout.annotations)


def test_many_runs_draw_lines_without_a_marker_per_epoch_but_zeros_keep_their_open_marker():
    runs = [nc_result([0.5 / (e + 1) for e in range(19)] + [0.0]) for _ in range(10)]   # floor: 0.01
    fig = charts_geometry.nc_history(runs, [f"run {i}" for i in range(10)])
    curves = [t for t in fig.data if t.customdata is not None and len(t.x) == 20]
    assert len(curves) == 50 and {t.mode for t in curves} == {"lines"}     # 10 runs × 5 series
    zeros = [t for t in fig.data if t.yaxis == "y4" and t.mode == "markers"]
    assert len(zeros) == 1 and list(zeros[0].y) == [0.01] * 10 and zeros[0].marker.symbol == "circle-open"
    assert list(zeros[0].marker.color) == [charts.run_color(i) for i in range(10)]    # each in its run's colour
    assert list(zeros[0].x) == [20] * 10 and "run 3: 0" in zeros[0].hovertemplate.replace("%{customdata}", "run 3")
    assert [t.name for t in fig.data if t.showlegend is not False] == [f"run {i}" for i in range(10)]  # one entry a run
    equinorm, equiangular = [t for t in fig.data if t.yaxis == "y2" and t.legendgroup == "run 9"]
    assert equinorm.line.width > equiangular.line.width and equinorm.line.dash == equiangular.line.dash
    few = charts.training_curves([("ce", [[{"epoch": e, "loss": 1.0, "balanced_acc": 0.5, "few_acc": 0.1}
                                           for e in range(1, 6)]])])
    many = charts.training_curves([(f"r{i}", [[{"epoch": e, "loss": 1.0, "balanced_acc": 0.5, "few_acc": 0.1}
                                               for e in range(1, 21)]]) for i in range(10)])
    assert {t.mode for t in few.data} == {"lines+markers"} and {t.mode for t in many.data} == {"lines"}


def test_gallery_is_one_picture_of_the_mosaic_with_class_names_beside_their_rows():
    import numpy as np

    images = np.zeros((4, 1, 8, 8), dtype=np.uint8)
    images[0] = 255                                               # class a's first image: white ink
    picture = np.asarray(charts.gallery_image(images, np.array([0, 0, 1, 1]), ["a", "b"], [0, 1], per_class=2))
    cell = 5 * 9                                                  # 8 px enlarged 5× (to ~40 px), 1 px gap
    assert picture.shape[0] == 2 * cell and picture.shape[2] == 3
    margin = picture.shape[1] - 2 * cell
    assert (picture[:40, margin:margin + 40] == 0).all()          # grey images as dark ink on white
    assert (picture[:40, margin + cell:margin + cell + 40] == 255).all()
    assert (picture[:, :margin] < 200).any()                      # the class names are written in the margin


def test_animation_frames_carry_only_the_moving_coordinates():
    fig = charts_geometry.feature_scatter(frames((1, 5)), ["a", "b", "c"], 2, counts=[100, 10, 1])
    first = fig.frames[0].data
    assert len(first) == len(fig.data) and first[0].marker.color is None and first[0].name is None
    assert list(first[0].x) == [0.1] and list(fig.frames[1].data[0].x) == [0.5]   # class a's point moves
    assert list(first[-1].x) == [0.0, 1.0, None] * 3                                  # classifier lines, gaps kept


def test_class_and_run_colours_are_distinct_colour_blind_safe_sets():
    assert len(set(charts.CLASS_COLORS)) >= 10 and not set(charts.CLASS_COLORS) & set(charts.RUN_COLORS)
    assert charts.class_symbol(3) != charts.class_symbol(13)               # beyond 10 classes: another symbol
    assert charts.run_bar(7)["pattern"]["shape"] == "/" and "pattern" not in charts.run_bar(0)


def frames(epochs=(1, 5)):
    return [{"epoch": e, "points": [[0.1 * e, 0.2, 0.0], [1.0, -1.0, 0.5], [-1.0, 0.4, 0.1]], "labels": [0, 1, 2],
             "means": [[0.1, 0.2, 0.0], [1.0, -1.0, 0.5], [-1.0, 0.4, 0.1]], "classifier": [[1, 0, 0]] * 3,
             "explained_variance_ratio": [0.6, 0.3, 0.1]} for e in epochs]


def test_feature_scatter_labels_class_means_in_class_colour_tail_on_top_pc_axes_and_buttons_beside_slider():
    fig = charts_geometry.feature_scatter(frames(), ["a", "b", "c"], 2, counts=[100, 10, 1])
    names = [t.name for t in fig.data]
    assert names[:3] == ["a", "b", "c"]                     # head first, the tail class drawn last (on top)
    assert fig.data[2].marker.size > fig.data[0].marker.size
    means = fig.data[3]
    assert list(means.text) == ["a", "b", "c"] and list(means.marker.color) == charts.CLASS_COLORS[:3]
    assert fig.layout.xaxis.title.text == "PC1" and fig.layout.yaxis.title.text == "PC2"
    slider, buttons = fig.layout.sliders[0], fig.layout.updatemenus[0]
    assert buttons.x == 0 and slider.x >= 0.15 and slider.x + slider.len <= 1.0
    three = charts_geometry.feature_scatter(frames(), ["a", "b", "c"], 3, counts=[100, 10, 1])
    assert three.layout.scene.zaxis.title.text == "PC3"


def test_tensorboard_smoothing_is_a_debiased_ema():
    assert charts_runs.ema([1.0, 3.0, None, 5.0], 0.0) == [1.0, 3.0, None, 5.0]
    smooth = charts_runs.ema([1.0, 3.0, 5.0], 0.5)
    assert smooth == pytest.approx([1.0, (0.25 + 1.5) / 0.75, (0.125 + 0.75 + 2.5) / 0.875])


def test_formulas_in_lessons_are_written_as_maths_for_st_markdown():
    import re

    from ltcore import lessons

    for lesson in lessons.load():
        plain = re.sub(r"\$[^$]+\$", "", lesson.text)
        assert "^" not in plain and "_k" not in plain, f"lesson {lesson.number}: a formula outside $…$"


def test_the_mnist1d_signal_gallery_gives_each_of_ten_classes_its_own_colour():
    """Issue 22, item 5: with the run palette (7 colours) classes 0/7, 1/8 and 2/9 shared a colour."""
    import numpy as np

    labels = np.repeat(np.arange(10), 2)
    fig = charts.signal_gallery(np.zeros((20, 8)), labels, [str(k) for k in range(10)], list(range(10)))
    colours = {}
    for trace in fig.data:
        colours.setdefault(trace.line.color, set()).add(trace.xaxis)
    assert len(colours) == 10 and all(len(panels) == 1 for panels in colours.values())


def test_a_training_panel_without_values_says_why_instead_of_a_blank_axis():
    """Issue 22, item 4: no class below 20 samples → the few-shot panel says so, on a 0–100 % axis."""
    history = [{"epoch": 1, "loss": 1.0, "balanced_acc": 0.5, "few_acc": None}]
    fig = charts.training_curves([("ce", [history])])
    notes = [a.text for a in fig.layout.annotations]
    assert "no class has < 20 training samples at this ρ" in notes
    assert list(fig.layout.yaxis3.range) == [0, 1.02]
