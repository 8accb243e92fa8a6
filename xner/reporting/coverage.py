"""Whether the shards given to `xner merge` cover the plan they were cut from.

Each shard's results.json records its plan (`run.plan`, xner.execution.shard_plan): the
number of shards, its index, every configuration of the whole plan with its shard, the seeds
and a fingerprint of studies, model, data and runtime. Shards merge only when they were cut
from one plan, and, unless a partial merge is asked for, only when every configuration of it
(at every seed) is present, once. A merged run records which shards it holds (`run.shards`)
and what is missing, so a partial merge merged again with the missing shards becomes whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xner.results.records import ResultsFile
from xner.spec.identity import ConfigId

# The facts every shard of one plan shares (its own index aside).
PLAN_FACTS = ("shards", "seeds", "fingerprint", "configurations")


class CoverageError(ValueError):
    """Shards that do not make one plan, or do not cover it; the message says which."""


@dataclass(frozen=True)
class Coverage:
    """The plan a set of shards was cut from and what of it they hold."""

    plan: dict  # the plan's facts (PLAN_FACTS)
    shards: dict[int, str]  # shard index -> the file that holds it
    missing: dict[int, list[str]]  # shard index -> its configurations none of the files has

    @property
    def whole(self) -> bool:
        return not self.missing

    def line(self) -> str:
        """`shard 3/4 (not given): smoke-full-all, smoke-few-shot-fr:50`, one per shard."""
        count = self.plan["shards"]
        parts = []
        for index, names in sorted(self.missing.items()):
            how = "lacks" if index in self.shards else "not given"
            parts.append(f"shard {index}/{count} ({how}): {', '.join(names)}")
        total = sum(len(names) for names in self.missing.values())
        planned = len(self.plan["configurations"]) * len(self.plan["seeds"])
        return f"{total} of {planned} trainings missing: " + "; ".join(parts)

    def run_facts(self) -> dict:
        """What the merged run says of itself: whole or not, its shards, no shard label."""
        count = self.plan["shards"]
        facts = {
            "whole": self.whole,
            "shard": None,
            "plan": dict(self.plan),
            "shards": {f"{i}/{count}": path for i, path in sorted(self.shards.items())},
        }
        if not self.whole:
            facts["incomplete"] = {
                "line": f"INCOMPLETE: {self.line()}",
                "missing": {f"{i}/{count}": names for i, names in sorted(self.missing.items())},
            }
        return facts


def held_shards(run: Mapping) -> list[int]:
    """The shard indices a results.json holds: its own, or, for a merged run, its shards'."""
    plan = run.get("plan") or {}
    if "shard" in plan:
        return [plan["shard"]]
    return [int(name.split("/")[0]) for name in run.get("shards", {})]


def check_coverage(runs: Mapping[str, ResultsFile]) -> Coverage | None:
    """The Coverage of `runs` (path -> file), None where none was cut from a plan (runs
    without `run.plan` merge as they always did); CoverageError for shards of different
    plans, a shard given twice, a training in two files or one outside the plan."""
    plans = {path: run.run.get("plan") for path, run in runs.items()}
    with_plan = {path: plan for path, plan in plans.items() if plan}
    if not with_plan:
        return None
    first_path, first = next(iter(with_plan.items()))
    for path, plan in plans.items():
        if not plan:
            raise CoverageError(
                f"{path} is not a shard (its run has no plan) but {first_path} is shard "
                f"{_label(first)}: merge the shards of one plan together"
            )
        for fact in PLAN_FACTS:
            if plan.get(fact) != first.get(fact):
                raise CoverageError(
                    f"{first_path} and {path} are shards of different plans: their "
                    f"{fact} differ ({_differ(fact, first.get(fact), plan.get(fact))})"
                )
    shards: dict[int, str] = {}
    for path, run in runs.items():
        for index in held_shards(run.run):
            if index in shards:
                raise CoverageError(
                    f"shard {index}/{first['shards']} is given twice: {shards[index]} and {path}"
                )
            shards[index] = path
    where = first["configurations"]
    seen: dict[tuple[str, int], str] = {}
    for path, run in runs.items():
        for trained in sorted(
            {ConfigId(r.study, r.strategy, r.config, r.seed) for r in run.results}
        ):
            key = (trained.name, trained.seed)
            if trained.name not in where or trained.seed not in first["seeds"]:
                raise CoverageError(
                    f"{path}: {_training(*key)} is not in the plan of its shard "
                    f"({len(where)} configurations, seeds {first['seeds']})"
                )
            if key in seen:
                raise CoverageError(
                    f"{_training(*key)} is in both {seen[key]} and {path}: each training once"
                )
            seen[key] = path
    several = len(first["seeds"]) > 1
    missing: dict[int, list[str]] = {}
    for name, index in where.items():
        for seed in first["seeds"]:
            if (name, seed) not in seen:
                label = _training(name, seed) if several else name
                missing.setdefault(index, []).append(label)
    plan = {fact: first[fact] for fact in PLAN_FACTS}
    return Coverage(plan, shards, missing)


def _training(name: str, seed: int) -> str:
    return f"{name} seed {seed}"


def _label(plan: Mapping) -> str:
    return f"{plan.get('shard', '?')}/{plan.get('shards', '?')}"


def _show(value) -> str:
    if isinstance(value, dict):
        return f"{len(value)} configurations"
    return repr(value)


def _differ(fact: str, a, b) -> str:
    """What differs between two plans' `fact`, shortly."""
    if isinstance(a, dict) and isinstance(b, dict):
        names = sorted(set(a) ^ set(b)) or sorted(k for k in a if a[k] != b.get(k))
        return f"{len(a)} configurations against {len(b)}; first difference {names[0]}"
    return f"{_show(a)} against {_show(b)}"
