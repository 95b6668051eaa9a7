"""Data page (the first screen) through AppTest: numbers and histogram come from the core."""
from apphelpers import decode, figures

from app.logic.state import UI_RATIO
from ltcore.data import load_split, make_longtail


def longtail(dataset, profile="exp", ratio=UI_RATIO, seed=0):
    return make_longtail(load_split(dataset), profile, ratio, seed)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_first_screen_is_the_data_page_on_digits_with_a_first_experiment(app):
    at = app.run()
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("Data")
    assert at.sidebar.selectbox[0].value == "digits"
    assert "Device:" in " ".join(c.value for c in at.sidebar.caption)
    assert any(b.label == "Run the first experiment" for b in at.button)
    counts = longtail("digits").counts
    assert metric(at, "Training images") == f"{sum(counts):,}"
    assert metric(at, "Smallest class") == str(min(counts))
    hist = figures(at)["histogram"]
    train = [t for t in hist["data"] if t["name"] in ("many", "medium", "few")]
    assert sum((decode(t["y"]) for t in train), []) == sorted(counts, reverse=True)
    test = next(t for t in hist["data"] if t["name"] == "test")
    assert decode(test["y"]) == [40] * 10           # digits keeps 40 test images per class (+10 validation)
    gallery = at.get("image")                       # the image gallery: one picture, not a chart
    assert len(gallery) == 1 and "most → least frequent" in gallery[0].captions[0]


def test_ratio_profile_and_log_scale_change_what_is_shown_and_the_url(app):
    at = app.run()
    at.sidebar.number_input[0].set_value(10.0).run()
    counts = longtail("digits", ratio=10.0).counts
    assert metric(at, "Training images") == f"{sum(counts):,}"
    assert at.query_params["ratio"] == "10"
    at.selectbox(key="profile").set_value("step").run()
    step = longtail("digits", "step", 10.0).counts
    assert metric(at, "Training images") == f"{sum(step):,}" and step != counts
    at.toggle(key="data_log").set_value(True).run()
    assert figures(at)["histogram"]["layout"]["yaxis"]["type"] == "log"


def test_a_link_reproduces_the_view(app):
    app.query_params.update({"dataset": "gaussians", "ratio": "20", "profile": "step", "seed": "3"})
    at = app.run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox[0].value == "gaussians" and at.sidebar.number_input[0].value == 20.0
    data = longtail("gaussians", "step", 20.0, 3)
    assert metric(at, "Training images") == f"{sum(data.counts):,}"
    scatter = figures(at)["scatter"]                 # 2-D data: points instead of an image gallery
    assert sorted(len(decode(t["x"])) for t in scatter["data"]) == sorted(data.counts)
    assert len(decode(scatter["data"][-1]["x"])) == min(data.counts)     # a tail class is drawn last, on top


def test_a_bad_link_warns_and_falls_back(app):
    app.query_params.update({"dataset": "nope", "ratio": "lots", "methods": "ce,unknown_method", "seeds": "99"})
    at = app.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.sidebar.warning).replace("\\", "")  # markdown-escaped
    assert "nope" in warnings and "ratio=lots" in warnings and "unknown_method" in warnings
    assert "seeds = 99 in the link is outside [1, 10]; using 10" in warnings
    assert at.sidebar.selectbox[0].value == "digits" and at.session_state["seeds"] == 10


def test_missing_data_is_a_message_that_says_what_to_do(app):
    app.query_params.update({"dataset": "imagefolder", "data_path": "/nonexistent/images"})
    at = app.run()
    assert not at.exception
    assert "does not exist" in at.error[0].value and "sub-folder" in at.error[0].value


def test_mnist1d_is_offered_and_shows_its_signals(app):
    app.query_params.update({"dataset": "mnist1d", "ratio": "100"})
    at = app.run(timeout=120)
    assert not at.exception and not at.error
    data = longtail("mnist1d", ratio=100.0)
    assert metric(at, "Training images") == f"{sum(data.counts):,}"
    lines = figures(at)["signals"]["data"]          # 1-D signals drawn as lines, up to 8 per class
    assert len(lines) == 10 * 8 and all(len(decode(t["y"])) == 40 for t in lines)
