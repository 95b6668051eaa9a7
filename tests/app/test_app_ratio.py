"""The sidebar says the ratio the data really gives (issue 14, bug 3), from the core's count."""
from apphelpers import page


def sidebar_text(at) -> str:
    return " ".join([c.value for c in at.sidebar.caption] + [w.value for w in at.sidebar.warning]
                    + [m.value for m in at.sidebar.markdown])


def test_digits_at_rho_100_shows_the_real_124_and_says_it_cannot_reach_100(app, tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    app.query_params.update({"dataset": "digits", "ratio": "100"})
    at = app.run()
    assert not at.exception
    text = sidebar_text(at)
    assert "Real ratio: **124×**" in text
    assert "ρ = 100 asked, but this data gives 124×" in text
    at.sidebar.number_input(key="ratio").set_value(10.0).run()
    assert "Real ratio: **10.3×**" in sidebar_text(at) and not at.sidebar.warning


def test_the_learn_page_sidebar_shows_the_lessons_data_not_the_views(app, tmp_path, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    from app.logic import lessons

    app.query_params.update({"dataset": "gaussians", "ratio": "20"})
    at = app.run()
    at.switch_page(page("learn")).run()
    lesson = lessons.load()[0].configs()[0]
    text = sidebar_text(at)
    assert f"`{lesson.dataset}`" in text and f"ρ = {lesson.ratio:g}" in text and "ρ = 20" not in text
    at.switch_page(page("data")).run()                # the view's own settings come back unchanged
    assert at.sidebar.number_input(key="ratio").value == 20 and at.query_params["ratio"] == "20"


def test_the_first_view_of_a_newcomer_carries_no_ratio_warning(app, tmp_path, monkeypatch):
    """Issue 22, item 5: `make run`, Data page, defaults → a ratio the default data really gives."""
    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    at = app.run()
    assert not at.exception and not at.sidebar.warning and not at.warning
    assert "Real ratio: **62×**" in sidebar_text(at)
