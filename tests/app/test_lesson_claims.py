"""Every lesson's text holds in its own runs (issue 14, "lessons must be true"): each claim of
assets/lessons.toml is checked on the stored results, mean over the lesson's seeds. The runs are
trained once per test session through the job system (two worker processes); configurations
shared by lessons (plain `ce` on digits) are trained once."""
import statistics

import pytest
from apphelpers import decode, figures, page

from app.logic import lessons
from app.charts.base import frequency_order

LESSONS = lessons.load(lessons.LESSONS_FILE)


@pytest.fixture(scope="session")
def lesson_results(tmp_path_factory):
    """method → results over seeds, per lesson number, from one store."""
    from ltcore.runs import JobManager, RunStore

    data = tmp_path_factory.mktemp("lessons")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTLAB_DATA", str(data))
        store = RunStore()
        manager = JobManager(store, max_workers=2)
        try:
            configs = {c.run_id: c for lesson in LESSONS for c in lesson.configs()}
            two_stage = {rid for rid, c in configs.items() if c.method in ("crt", "tau_norm", "lws", "ncm")}
            for phase in ([r for r in configs if r not in two_stage], [r for r in configs if r in two_stage]):
                ids = [manager.submit(configs[r]) for r in phase]      # stage 2 reuses the ce models
                for rid in ids:
                    assert manager.wait(rid, timeout=600)["status"] == "done", store.get(rid)["error"]
            out = {"data": data}
            for lesson in LESSONS:
                by_method = {}
                for config in lesson.configs():
                    by_method.setdefault(config.method, []).append(store.load_result(store.run_id_for(config)))
                out[lesson.number] = by_method
            return out
        finally:
            manager.shutdown(kill=True, timeout=10)


def test_every_lesson_runs_three_seeds_and_states_checkable_claims():
    for lesson in LESSONS:
        assert lesson.seeds == 3 and lesson.claims, lesson.short
        assert lesson.answer and lesson.notes, lesson.short       # teacher mode has something to show
        assert len(lesson.configs()) == 3 * len(lesson.runs)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.short)
def test_each_claim_of_the_lesson_holds_in_its_runs(lesson, lesson_results):
    by_method = lesson_results[lesson.number]
    assert all(len(runs) == lesson.seeds for runs in by_method.values())
    for claim in lesson.claims:
        check = lessons.check(claim, by_method)
        assert check.holds, f"lesson {lesson.number}: {claim.say} — {check.left} vs {check.right}"


def test_a_claim_that_the_runs_contradict_is_reported_as_not_holding(lesson_results):
    by_method = lesson_results[2]
    wrong = lessons.Claim("ce beats cbs on the few-shot classes", "ce.few", "cbs.few")
    assert not lessons.check(wrong, by_method).holds
    reuse = lesson_results[5]["tau_norm"][0].extras["stages"][0]
    assert reuse["reused"] and reuse["epochs"] == 20           # decoupling reuses the ce model


def test_the_learn_page_shows_the_claims_with_mean_and_std_and_teacher_mode_the_answer(
        app, lesson_results, monkeypatch):
    monkeypatch.setenv("LTLAB_DATA", str(lesson_results["data"]))
    app.query_params["lesson"] = "2"
    at = app.run()
    at.switch_page(page("learn")).run()
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert text.count("✓ holds") == len(LESSONS[1].claims) and "✗" not in text
    assert "cbs" in text and " ± " in text                                    # mean ± std over 3 seeds
    table = next(d.value for d in at.dataframe if "few-shot" in d.value.columns)
    assert list(table["method"]) == ["ce", "cbs"] and set(table["seeds"]) == {3}
    runs = lesson_results[2]                                  # the charts show what the claims talk about
    shots = figures(at)["lesson2_shots"]["data"]
    for trace, method in zip(shots, ("ce", "cbs")):
        assert decode(trace["y"])[2] == pytest.approx(statistics.fmean(r.shot_acc["few"] for r in runs[method]))
        assert decode(trace["error_y"]["array"])[2] == pytest.approx(
            statistics.stdev(r.shot_acc["few"] for r in runs[method]))
    (change,) = [t for t in figures(at)["lesson2_change"]["data"] if t["type"] == "bar"]
    order = frequency_order(runs["ce"][0].class_counts)
    assert decode(change["error_y"]["array"]) == pytest.approx([statistics.stdev(
        100 * (b.per_class_acc[k] - c.per_class_acc[k]) for b, c in zip(runs["cbs"], runs["ce"])) for k in order])
    assert any("Mean ± one std over the 3 seeds" in c.value for c in at.caption)
    assert not any("Answer." in s.value for s in at.success)
    at.toggle(key="teacher").set_value(True).run()
    assert at.query_params["teacher"] == "1"
    assert any(LESSONS[1].answer[:40] in s.value for s in at.success)
    assert any("Teacher's notes" in i.value for i in at.info)


def test_a_lessons_norm_and_cosine_charts_are_means_over_its_seeds(lesson_results):
    from app.learn import lesson_charts as lesson_view

    for kind, key in (("norms", "weight_norms_sorted"), ("cosines", "weight_cosine")):
        lesson = next(l for l in LESSONS if kind in l.charts)
        results = [r for runs in lesson_results[lesson.number].values() for r in runs]
        view = lesson_view.seed_view([f"{r.config.method}-{r.config.seed}" for r in results], results)
        figure = lesson_view.figures(kind, view)[0][1]
        seeds = view.members[0]
        assert len(seeds) == 3 and f"over {len(seeds)} seeds" in figure.layout.title.text
        if kind == "norms":
            bars = figure.data[2]                     # the classifier-norm panel (after the first panel's two traces)
            norms = [r.extras["minority_collapse"][key] for r in seeds]
            assert list(bars.y) == pytest.approx([statistics.fmean(v) for v in zip(*norms)])
            assert list(bars.error_y.array) == pytest.approx([statistics.stdev(v) for v in zip(*norms)])
        else:
            order = frequency_order(seeds[0].class_counts)
            cells = [r.extras["neural_collapse"][key][order[-1]][order[-2]] for r in seeds]  # two tail classes
            assert figure.data[1].z[-1][-2] == pytest.approx(statistics.fmean(cells))
            assert figure.data[1].customdata[-1][-2] == pytest.approx(statistics.stdev(cells))
