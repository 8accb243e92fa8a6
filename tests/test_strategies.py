"""Strategies expand into training configurations, and the built-in studies into the report's
training configurations and benchmark cases."""

from xner.spec.cases import case_id, study_cases
from xner.spec.strategies import Strategy, TrainConfig
from xner.spec.study import load_study

FOUR = ("de", "fr", "it", "en")


def labels(strategy):
    return [(c.label, c.eval_langs) for c in strategy.configs()]


def test_zero_shot_trains_de_and_tests_all_four():
    assert labels(load_study("report").strategies["zero-shot"]) == [("de", FOUR)]


def test_few_shot_trains_a_fresh_model_per_french_size():
    configs = load_study("report").strategies["few-shot"].configs()
    assert [c.size for c in configs] == [250, 500, 1000, 2000, 4000]
    assert {c.train_langs for c in configs} == {("fr",)}
    assert {c.eval_langs for c in configs} == {("fr",)}
    assert [c.label for c in configs][2] == "fr:1000"


def test_multilingual_and_full():
    strategies = load_study("report").strategies
    assert labels(strategies["multilingual"]) == [("de+fr", FOUR)]
    assert labels(strategies["full"]) == [("all", FOUR)]
    assert strategies["full"].configs()[0].train_langs == FOUR


def test_the_study_is_8_trainings_and_17_evaluations_in_each_built_in_study():
    for name in ("report", "smoke"):
        configs = [c for s in load_study(name).strategies.values() for c in s.configs()]
        assert len(configs) == 8
        assert sum(len(c.eval_langs) for c in configs) == 17


def test_smoke_scales_few_shot_sizes_to_its_corpus():
    sizes = [c.size for c in load_study("smoke").strategies["few-shot"].configs()]
    assert sizes == [50, 100, 200, 300, 400]


def test_a_strategy_expands_every_train_set_at_every_size():
    strategy = Strategy("curve", (("es",), ("nl", "de")), ("sw",), sizes=(10, 20), version=3)
    assert [c.label for c in strategy.configs()] == ["es:10", "es:20", "nl+de:10", "nl+de:20"]
    assert strategy.configs()[0] == TrainConfig("curve", ("es",), ("sw",), 10, 3)
    assert strategy.is_curve and not Strategy("x", (("de",),), ("de",)).is_curve


def test_benchmark_case_ids_read_as_the_issue_names_them():
    ids = {
        case_id(case)
        for name in ("report", "smoke")
        for strategy in load_study(name).strategies
        for case in study_cases(load_study(name), strategy)
    }
    for expected in (
        "report-de->fr",
        "report-fr:1000->fr",
        "report-de+fr->it",
        "report-all->en",
        "smoke-fr:100->fr",
    ):
        assert expected in ids
    assert len(ids) == 34  # 17 per study


def test_a_catch_all_case_names_its_strategy():
    (case,) = study_cases(load_study("smoke"), "few-shot")[:1]
    assert case_id(case, named_by_strategy=True) == "smoke-few-shot-fr:50->fr"
    assert case_id(case, several_seeds=True) == "smoke-fr:50->fr-seed0"
