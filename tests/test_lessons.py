"""The lessons of the Learn page: each runs registered presets on offline data in a few epochs."""
import pytest

from ltcore import lessons
from ltcore.data import DATASETS
from ltcore.methods import PRESETS

LESSONS = lessons.load()


def test_there_are_eight_lessons_in_the_issue_order():
    assert [l.short for l in LESSONS] == ["The long tail", "Re-sampling", "Re-weighting", "Logit adjustment",
                                         "Decoupling", "Neural collapse", "Better features", "Borrowed knowledge"]


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
    features = LESSONS[6]                                # CE vs a contrastive method vs cRT, same data
    assert features.methods() == ["ce", "bcl", "crt"] and features.geometry
    assert {"per_class", "cosines", "nc"} <= set(features.charts)
    assert len({(c.dataset, c.ratio, c.epochs) for c in features.configs()}) == 1


def test_feature_claims_read_the_class_mean_cosines_of_the_tail_and_nc1():
    from types import SimpleNamespace

    cos = [[1.0, 0.2, 0.4, 0.6], [0.2, 1.0, 0.1, 0.3], [0.4, 0.1, 1.0, 0.8], [0.6, 0.3, 0.8, 1.0]]
    run = SimpleNamespace(metrics={}, extras={"neural_collapse": {"nc1": 0.5, "mean_cosine": cos},
                                              "minority_collapse": {"tail": [2, 3], "mean_cos_tail": -0.1}})
    assert lessons.metric(run, "feat_tail_cos") == pytest.approx(0.8)      # the tail block only
    assert lessons.metric(run, "nc1") == 0.5 and lessons.metric(run, "tail_cos") == -0.1
    run.extras["minority_collapse"]["tail"] = [1]
    assert lessons.metric(run, "feat_tail_cos") is None                    # no pair: no number


def test_an_unknown_chart_name_is_an_error(tmp_path):
    bad = tmp_path / "lessons.toml"
    bad.write_text('[[lesson]]\nshort = "x"\ntitle = "x"\ntext = "x"\nquestion = "x?"\ncharts = ["pie"]\n'
                   'runs = [ { method = "ce" } ]\n')
    with pytest.raises(lessons.LessonsError, match=r"lesson 1 \('x'\), key `charts`: unknown chart\(s\) \['pie'\]"):
        lessons.load(bad)


def test_a_lesson_student_distils_from_the_lessons_own_teacher_run_of_the_same_seed(tmp_path):
    from ltcore.methods.distill import resolve_reference
    from ltcore.version import store_run_id

    head = '[[lesson]]\nshort = "x"\ntitle = "x"\ntext = "x"\nquestion = "x?"\ncharts = ["shots"]\nseeds = 2\n'
    good = tmp_path / "good.toml"
    good.write_text(head + 'base = { dataset = "digits", epochs = 2 }\nruns = [ { method = "ce" }, '
                    '{ method = "bkd", method_params = { kd_teacher = "@ce" } } ]\n')
    ce0, ce1, bkd0, bkd1 = lessons.load(good)[0].configs()
    assert bkd0.params == bkd1.params == {"kd_teacher": "@ce"}        # one experiment over seeds
    assert [resolve_reference(b, "@ce") for b in (bkd0, bkd1)] == [store_run_id(ce0), store_run_id(ce1)]
    bad = tmp_path / "bad.toml"
    bad.write_text(head + 'runs = [ { method = "bkd", method_params = { kd_teacher = "@ce" } }, { method = "ce" } ]\n')
    with pytest.raises(lessons.LessonsError, match="kd_teacher`: '@ce' must name a run listed before 'bkd'"):
        lessons.load(bad)


def test_notes_figures_are_filled_from_the_runs_and_comparisons_are_checked(tmp_path):
    from types import SimpleNamespace

    path = tmp_path / "l.toml"
    path.write_text('seeds = 2\n[[lesson]]\nshort = "x"\ntitle = "x"\ntext = "x"\nquestion = "x?"\ncharts = ["shots"]\n'
                    'runs = [ { method = "ce", dataset = "gaussians" } ]\n'
                    'notes = "few {ce.few}, cosine {ce.tail_cos}"\n'
                    'teacher_claims = [ { say = "under half", left = 0.5, right = "ce.few" } ]\n')
    lesson = lessons.load(path)[0]
    runs = [SimpleNamespace(metrics={"shot_acc": {"few": f}}, extras={"minority_collapse": {"mean_cos_tail": c}})
            for f, c in ((0.1, 0.3), (0.2, 0.1))]
    assert lessons.fill(lesson.notes, {"ce": runs}) == "few 15.0 % (± 7.1), cosine +0.20 (± 0.14)"
    assert "measured after the run" in lessons.fill(lesson.notes, None)
    assert lessons.check(lesson.teacher_claims[0], {"ce": runs}).holds
    assert not lessons.check(lesson.teacher_claims[0], {"ce": runs[:0]}).holds       # no runs: nothing holds


@pytest.mark.parametrize("notes, key", [("{cbs.few}", "notes"), ("{ce.speed}", "notes")])
def test_a_placeholder_must_name_a_method_of_the_lesson_and_a_metric(tmp_path, notes, key):
    path = tmp_path / "l.toml"
    path.write_text('[[lesson]]\nshort = "x"\ntitle = "x"\ntext = "x"\nquestion = "x?"\ncharts = ["shots"]\n'
                    f'runs = [ {{ method = "ce" }} ]\nnotes = "{notes}"\n')
    with pytest.raises(lessons.LessonsError, match=f"key `{key}`: .* must be <method>.<metric>"):
        lessons.load(path)
