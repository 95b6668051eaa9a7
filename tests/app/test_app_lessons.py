"""The six lessons of the Learn page: each runs registered presets on offline data in a few epochs."""
import pytest

from app import lessons
from ltcore.data import DATASETS
from ltcore.methods import PRESETS

LESSONS = lessons.load()


def test_there_are_six_lessons_in_the_issue_order():
    assert [l.short for l in LESSONS] == ["The long tail", "Re-sampling", "Re-weighting", "Logit adjustment",
                                         "Decoupling", "Neural collapse"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.short)
def test_every_lesson_runs_registered_presets_on_offline_data(lesson):
    configs = lesson.configs()                       # validates data set, model, method and params
    assert all(c.method in PRESETS for c in configs)
    assert all(DATASETS.get(c.dataset).meta["offline"] for c in configs)   # no download in class
    assert all(c.epochs <= 30 for c in configs)
    assert len({c.run_id for c in configs}) == len(configs)
    assert lesson.text and lesson.question.endswith("?") and lesson.charts


def test_lessons_show_the_chart_that_makes_their_point():
    charts = {l.short: l.charts for l in LESSONS}
    assert charts["The long tail"][0] == "per_class"
    assert "regions" in charts["Logit adjustment"]
    assert "norms" in charts["Decoupling"]
    assert {"nc", "cosines"} <= set(charts["Neural collapse"])
    logit = LESSONS[3].configs()
    assert DATASETS.get(logit[0].dataset).meta["shape"] == (2,)      # decision regions need 2-D data
    assert "tau_norm" in [c.method for c in LESSONS[4].configs()]


def test_an_unknown_chart_name_is_an_error(tmp_path):
    bad = tmp_path / "lessons.toml"
    bad.write_text('[[lesson]]\nshort = "x"\ntitle = "x"\ntext = "x"\nquestion = "x?"\ncharts = ["pie"]\n'
                   'runs = [ { method = "ce" } ]\n')
    with pytest.raises(ValueError, match="pie"):
        lessons.load(bad)
