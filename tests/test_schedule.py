"""Cost estimates, longest-first order and cost-balanced shards (xner.execution.schedule)."""

from dataclasses import replace
from pathlib import Path

import pytest

from xner.execution.schedule import Shard, assign_shards, config_cost, in_shard, longest_first
from xner.spec.strategies import TrainConfig
from xner.spec.study import load_study

REPORT = load_study("report")


def cost(config: TrainConfig, data: str = "hub") -> float:
    # `replace`, not load_study(data=...): the report's few-shot sizes exceed synthetic data.
    return config_cost(config, replace(REPORT, data=data))


def test_costs_follow_the_training_rows():
    """By hand: de trains on 0.629 x 20,000 = 12,580 rows, de+fr on 17,160, all four on
    20,020; few-shot on its n. Three epochs each; evaluation adds a third per sentence."""
    de = TrainConfig("zero-shot", ("de",), ("de",))
    assert cost(de) == pytest.approx(3 * (12_580 + 6_290 / 3) + 6_290 / 3)
    configs = {c.label: cost(c) for s in REPORT.strategies.values() for c in s.configs()}
    assert longest_first(configs) == [
        "all", "de+fr", "de", "fr:4000", "fr:2000", "fr:1000", "fr:500", "fr:250"
    ]  # fmt: skip


def test_synthetic_data_is_a_fifth_of_panx():
    de = TrainConfig("zero-shot", ("de",), ("de",))
    assert cost(de, "synthetic") == pytest.approx(cost(de) / 5)


def write_conll(path: Path, sentences: int) -> str:
    path.write_text("".join(f"w{i} B-PER\nx O\n\n" for i in range(sentences)), encoding="utf-8")
    return path.name


def test_costs_follow_the_rows_a_corpus_really_has(tmp_path):
    """Counted in the files, not PAN-X's 20,000: en trains on 30 sentences (half of them
    with the fraction), es is evaluated on its 12 test sentences; by hand."""
    files = {("en", "train"): 30, ("en", "validation"): 9, ("en", "test"): 6, ("es", "test"): 12}
    for (lang, split), n in files.items():
        write_conll(tmp_path / f"{lang}-{split}.txt", n)
    (tmp_path / "s.toml").write_text(
        'model = "tiny"\nrecipe.epochs = 2\n'
        '[corpus.en]\ntrain = "en-train.txt"\nvalidation = "en-validation.txt"\n'
        'test = "en-test.txt"\n[corpus.es]\ntest = "es-test.txt"\n'
        "[fractions]\nen = 0.5\n"  # es has none: whole splits
        '[strategies.z]\ntrain = ["en"]\neval = ["en", "es"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "s.toml")
    (config,) = study.strategies["z"].configs()
    assert config_cost(config, study) == pytest.approx(2 * (15 + 4.5 / 3) + (3 + 12) / 3)


def test_costs_of_a_panx_folder_are_its_files_rows(tmp_path):
    from xner.data.panx import synthetic_panx, write_xtreme

    write_xtreme(synthetic_panx("de", {"train": 40, "validation": 10, "test": 20}), tmp_path, "de")
    study = load_study("report", str(tmp_path))
    config = TrainConfig("zero-shot", ("de",), ("de",))
    # de's fraction in the report is 0.629; three epochs.
    assert config_cost(config, study) == pytest.approx(
        3 * (40 * 0.629 + 10 * 0.629 / 3) + 20 * 0.629 / 3
    )


PANX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "panx"


@pytest.mark.skipif(not PANX.is_dir(), reason="real PAN-X files are not here")
def test_costs_of_real_panx_files_are_the_hubs():
    """XTREME's files hold the hub's 20,000/10,000/10,000 rows: the same costs either way."""
    de = TrainConfig("zero-shot", ("de",), ("de",))
    assert config_cost(de, load_study("report", str(PANX))) == pytest.approx(cost(de))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_shards_partition_and_balance(count):
    costs = {f"c{i}": float(c) for i, c in enumerate([90, 70, 40, 30, 20, 10, 5, 5])}
    shards = assign_shards(costs, count)
    assert sorted(k for shard in shards for k in shard) == sorted(costs)
    totals = [sum(costs[k] for k in shard) for shard in shards]
    # Greedy LPT: no shard exceeds the ideal share by more than the largest single cost.
    assert max(totals) <= sum(costs.values()) / count + max(costs.values())
    assert assign_shards(dict(reversed(costs.items())), count) == shards, "order-independent"


def test_in_shard_and_parsing():
    costs = {"a": 3.0, "b": 2.0, "c": 1.0}
    assert in_shard(costs, None) == {"a", "b", "c"}
    assert in_shard(costs, Shard(1, 2)) == {"a"} and in_shard(costs, Shard(2, 2)) == {"b", "c"}
    assert Shard.parse(" 2 / 3 ") == Shard(2, 3) and str(Shard(2, 3)) == "2/3"
    for bad in ("0/3", "4/3", "x/3", "2", "1/0"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)
