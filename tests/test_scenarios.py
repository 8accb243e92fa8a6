"""The four strategies expand into the report's training configurations and cases."""

import pytest

from xner.bench import cases
from xner.profiles import PROFILES, get_profile
from xner.scenarios import STRATEGIES, TrainConfig, custom_strategy, get_strategy


def labels(strategy):
    return [(c.label, c.eval_langs) for c in strategy.configs()]


def test_zero_shot_trains_de_and_tests_all_four():
    assert labels(STRATEGIES["zero-shot"]) == [("de", ("de", "fr", "it", "en"))]


def test_few_shot_trains_a_fresh_model_per_french_size():
    configs = STRATEGIES["few-shot"].configs()
    assert [c.size for c in configs] == [250, 500, 1000, 2000, 4000]
    assert {c.train_langs for c in configs} == {("fr",)}
    assert {c.eval_langs for c in configs} == {("fr",)}
    assert [c.label for c in configs][2] == "fr:1000"


def test_multilingual_and_full():
    assert labels(STRATEGIES["multilingual"]) == [("de+fr", ("de", "fr", "it", "en"))]
    assert labels(STRATEGIES["full"]) == [("all", ("de", "fr", "it", "en"))]


def test_the_study_is_8_trainings_and_17_evaluations_per_profile():
    for profile in PROFILES.values():
        configs = [c for s in profile.strategies().values() for c in s.configs()]
        assert len(configs) == 8
        assert sum(len(c.eval_langs) for c in configs) == 17


def test_smoke_profile_scales_few_shot_sizes_to_its_corpus():
    sizes = [c.size for c in get_profile("smoke").strategies()["few-shot"].configs()]
    assert sizes == [50, 100, 200, 400, 800]


def test_custom_strategy_takes_any_panx_languages():
    strategy = custom_strategy(["es", "nl"], ["de", "sw"])
    (config,) = strategy.configs()
    assert config == TrainConfig("custom", ("es", "nl"), ("de", "sw"))
    assert config.label == "es+nl"


def test_custom_strategy_rejects_unknown_languages():
    with pytest.raises(ValueError, match="unknown PAN-X language 'xx'"):
        custom_strategy(["xx"], ["de"])
    with pytest.raises(ValueError, match="at least one"):
        custom_strategy([], ["de"])


def test_unknown_strategy_and_profile_name_the_known_ones():
    with pytest.raises(KeyError, match="zero-shot"):
        get_strategy("one-shot")
    with pytest.raises(KeyError, match="smoke"):
        get_profile("tiny")


def test_benchmark_case_ids_read_as_the_issue_names_them():
    ids = {p.id for s in STRATEGIES for p in cases(s)}
    for expected in (
        "report-de->fr",
        "report-fr:1000->fr",
        "report-de+fr->it",
        "report-all->en",
        "smoke-fr:100->fr",
    ):
        assert expected in ids
    assert len(ids) == 34  # 17 per profile


def test_cases_of_one_configuration_share_an_xdist_group():
    groups = {}
    for param in cases("zero-shot"):
        (group,) = [m.kwargs.get("name") or m.args[0] for m in param.marks
                    if m.name == "xdist_group"]  # fmt: skip
        groups.setdefault(group, set()).add(param.id)
    assert sorted(len(v) for v in groups.values()) == [4, 4]  # de->* per profile
