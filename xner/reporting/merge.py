"""Saved runs combined into one: the shards of a study, or runs of different configurations.

Runs combine only when they measured the same thing the same way: the same library versions
(xner's included), recipes, and per study the same model, data and dtype. A cell and seed
measured in two runs must agree exactly; anything else is refused with the reason.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from xner.reporting.coverage import CoverageError, check_coverage
from xner.reporting.tables import sort_key
from xner.results.records import Result, ResultsFile, load_results
from xner.spec.identity import CaseId, Cell


class MergeError(ValueError):
    """Runs that cannot be merged; the message names the files and what differs."""


def _same(what: str, values: dict[str, object]) -> None:
    """Raise unless every file (key) has the same value."""
    distinct = {repr(v) for v in values.values()}
    if len(distinct) > 1:
        listing = "; ".join(f"{path}: {value}" for path, value in values.items())
        raise MergeError(f"the runs disagree on {what}: {listing}")


def merge_runs(paths: Sequence[str | Path], partial: bool = False) -> ResultsFile:
    """One ResultsFile from several results.json files, or MergeError saying why not.

    Shards (runs with `run.plan`) must be of one plan and cover all of it
    (xner.reporting.coverage); with `partial`, what is there merges and the run says what
    is missing (`run.incomplete`)."""
    if not paths:
        raise MergeError("no results.json to merge")
    runs = {str(path): load_results(path) for path in paths}
    try:
        coverage = check_coverage(runs)
    except CoverageError as err:
        raise MergeError(str(err)) from None
    if coverage is not None and not coverage.whole and not partial:
        raise MergeError(f"incomplete: {coverage.line()} (merge every shard, or pass --partial)")
    if len(runs) == 1 and (coverage is None or "shard" not in runs[str(paths[0])].run["plan"]):
        # One saved run re-rendered: as it was, so its files come out the same.
        return next(iter(runs.values()))
    _same("library versions", {p: r.run.get("versions") for p, r in runs.items()})
    recipes: dict[str, dict[str, object]] = {}
    for path, run in runs.items():
        for study, recipe in run.run.get("recipes", {}).items():
            recipes.setdefault(study, {})[path] = recipe
    for study, by_path in recipes.items():
        _same(f"the recipe of study {study!r}", by_path)

    per_study: dict[str, dict[str, dict[str, object]]] = {}
    results: dict[tuple, tuple[str, Result]] = {}
    for path, run in runs.items():
        for r in run.results:
            facts = per_study.setdefault(r.study, {})
            for what, value in (
                ("model", r.model),
                ("data", r.data_source),
                ("dtype", r.runtime.get("dtype")),
            ):
                facts.setdefault(what, {}).setdefault(path, value)
            key = CaseId.of(r)
            if key in results and results[key][1].f1 != r.f1:
                other = results[key][0]
                raise MergeError(
                    f"{other} and {path} contradict each other on {r.strategy} "
                    f"{r.config}->{r.eval_lang} seed {r.seed} of study {r.study!r}: F1 "
                    f"{results[key][1].f1:.6f} against {r.f1:.6f}"
                )
            results.setdefault(key, (path, r))
    for study, facts in per_study.items():
        for what, by_path in facts.items():
            _same(f"the {what} of study {study!r}", by_path)

    expected: dict[Cell, dict] = {}
    for path, run in runs.items():
        for e in run.expected:
            key = Cell.of_record(e)
            if key in expected and expected[key]["f1"] != e["f1"]:
                raise MergeError(
                    f"{path}: expected figure of {key.study} {key.strategy} {key.key} differs "
                    "from another run's"
                )
            expected.setdefault(key, e)

    findings = [f for run in runs.values() for f in run.findings]  # judged again by the caller

    first = next(iter(runs.values())).run
    # What a shard or an earlier merge said of its coverage is this merge's to say again.
    first = {k: v for k, v in first.items() if k not in ("incomplete", "whole", "shards")}
    run = first | {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "merged_from": [str(path) for path in paths],
        "shard": None,  # a merged run is no shard, whatever its first file was
    }
    if coverage is not None:
        facts = coverage.run_facts()
        # An incomplete merge says so first: the top of results.json.
        banner = {"incomplete": facts.pop("incomplete")} if not coverage.whole else {}
        run = banner | run | facts
    ordered = sorted((r for _, r in results.values()), key=lambda r: (sort_key(Cell.of(r)), r.seed))
    return ResultsFile(
        ordered, run, [expected[c] for c in sorted(expected, key=sort_key)], findings
    )
