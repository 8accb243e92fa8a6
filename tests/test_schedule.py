"""Cost estimates, longest-first order and cost-balanced shards (xner.execution.schedule)."""

import pytest

from xner.execution.schedule import Shard, assign_shards, config_cost, in_shard, longest_first
from xner.spec.strategies import TrainConfig
from xner.spec.study import load_study

REPORT = load_study("report")


def cost(config: TrainConfig, data: str = "hub") -> float:
    return config_cost(config, REPORT.fractions, REPORT.recipe.epochs, data)


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
