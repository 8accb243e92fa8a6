"""What a shard records of the plan it was cut from, so that `xner merge` can tell a whole
set of shards from a partial one, and shards of one plan from those of another.

A shard's results.json carries `run.plan`: the number of shards, its own index, every
configuration of the whole plan with the shard it falls in, the seeds, and a fingerprint of
what the plan was cut from (the studies, model, data and runtime). Every machine computes the
same plan from the same command (xner.execution.schedule's split is deterministic), so shards
that agree on the plan's facts were cut from one plan. xner.reporting.merge checks them.

Plain data: no torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict

from xner.execution.schedule import Shard, assign_shards, config_cost, config_key


def plan_fingerprint(
    studies: Iterable, model: str | None, data: str | None, runtime_options: dict
) -> str:
    """A hash of what a plan is cut from: per study its name, configurations (their
    versions included), recipe, fractions, languages and corpus, the model and data each
    trains with (`model`/`data` override the studies'), and the runtime with this run's
    options. Paths of study files are left out: the same study on two machines is one plan."""
    facts = []
    for study in sorted(studies, key=lambda s: s.name):
        configs = [asdict(c) for s in study.strategies.values() for c in s.configs()]
        facts.append({
            "study": study.name,
            "version": study.version,
            "configurations": sorted(configs, key=lambda c: json.dumps(c, sort_keys=True)),
            "recipe": asdict(study.recipe),
            "fractions": dict(study.fractions or {}),
            "languages": list(study.languages),
            "corpus": {lang: str(spec) for lang, spec in (study.corpus or {}).items()},
            "entity_types": list(study.entity_types or []),
            "label_map": dict(study.label_map),
            "model": model or study.model,
            "data": str(data or study.data),
            "runtime": asdict(study.runtime.with_options(**runtime_options)),
        })  # fmt: skip
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def shard_plan(
    studies: Iterable,
    shard: Shard,
    seeds: Iterable[int],
    model: str | None = None,
    data: str | None = None,
    runtime_options: dict | None = None,
    costs: dict[str, float] | None = None,
) -> dict:
    """`run.plan` of shard `shard` of `studies` (xner.spec.study.Study, strategies already
    selected): `{"shards": N, "shard": I, "seeds": [...], "fingerprint": "...",
    "configurations": {"smoke-zero-shot-de": 2, ...}}` (each configuration's shard).
    `costs` (configuration name -> cost, as the shards were cut) where the plan is not all
    of the studies' configurations (pytest's, of the collected cases); else all of them."""
    studies = list(studies)
    if costs is None:
        costs = {
            config_key(study.name, config): config_cost(config, study)
            for study in studies
            for strategy in study.strategies.values()
            for config in strategy.configs()
        }
    where = {
        key: index + 1
        for index, keys in enumerate(assign_shards(costs, shard.count))
        for key in keys
    }
    return {
        "shards": shard.count,
        "shard": shard.index,
        "seeds": sorted(seeds),
        "fingerprint": plan_fingerprint(studies, model, data, runtime_options or {}),
        "configurations": dict(sorted(where.items())),
    }
