"""The fixtures a benchmark case uses: `xner_bench` (run, record and check a case, and time it
through pytest-benchmark where that plugin is loaded) and `xner_seed`.

pytest-benchmark is used through its public API only: a `benchmark` marker on each case
(its group, and a timer that reads the time measured in the training worker) and the
fixture's `pedantic` and `extra_info`."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.errors import XnerError
from xner.plugin.session import RESULT_PROPERTY, STATE, XnerSession
from xner.spec.cases import case_id


class Bench:
    """What a benchmark case uses: run its case, record the result, check it."""

    def __init__(self, request: pytest.FixtureRequest, benchmark):
        self.request = request
        self.benchmark = benchmark  # None without pytest-benchmark
        self.state: XnerSession = request.config.stash[STATE]

    def run(self, case):
        """Train (once per configuration and seed) and score `case` (a CaseId), and time it.

        Training and every evaluation of a configuration run together in the training worker,
        which times each. pytest-benchmark gets those times, not the round trip to the worker:
        this case's row, in the group `xner`, is its evaluation; its extra info has the
        training's time and steps, and `first_of_training` on the first case of its
        configuration in this process (the one whose call waited for the training). The
        Result has both times too.
        """
        config = self.state.train_config(case)
        first = case.configuration not in self.state.timed
        self.state.timed.add(case.configuration)
        result = self.state.score(case.study, config, case.seed, case.lang)
        if self.benchmark is not None:
            self.benchmark.extra_info.update(
                f1=result.f1, eval_seconds=result.eval_seconds,
                train_seconds=result.train_seconds, train_steps=result.train_steps,
                seconds_per_step=result.seconds_per_step, first_of_training=first,
            )  # fmt: skip
            self.request.node.stash[CLOCK].load(result.eval_seconds)
            self.benchmark.pedantic(lambda: None, rounds=1, iterations=1)
        return result

    def expectation(self, case, folder: str | Path):
        """The expected figure of `case`: from `<study file>.expected.toml` beside a study
        file or `folder/<study>.toml` (the installed versions pick an [[environment]]
        variant). None when the study has no file: the case is reported as measured, unless
        --xner-require-expected asks for one."""
        from xner.results.records import versions
        from xner.spec.expected import expected_file, load_expected

        study = self.state.studies[case.study]
        path = expected_file(study, folder)
        if path is None:
            if self.state.require_expected:
                pytest.fail(
                    f"{case_id(case)}: no expected figures for study {study.name!r} (looked for "
                    f"{study.name}.toml in {folder}"
                    + (f" and {Path(study.source).with_suffix('.expected.toml')}" if
                       study.ref != study.name else "") + ")",
                    pytrace=False,
                )  # fmt: skip
            return None
        cache = self.state.expected_files
        try:  # a bad file or stale figures: this case fails in one line, before it trains
            if path not in cache:
                cache[path] = load_expected(path, versions())
            return cache[path].for_case(case, study.strategies[case.strategy].version)
        except (OSError, XnerError) as err:
            pytest.fail(f"{case_id(case)}: {err.args[0] if err.args else err}", pytrace=False)

    def check(self, case, result, expectation) -> None:
        """Record `result` beside its expected figure (None: measured only), then assert it
        meets it."""
        expected = None
        if expectation is not None:
            expected = {
                "f1": expectation.f1,
                "why": expectation.why,
                "source": expectation.source,
                "suspect": expectation.suspect(result.f1),
            }
        # Whether its configuration trained or came from the cache travels with it, from
        # whichever xdist worker ran it, for the session's `trained N, M from cache` line.
        trained = self.state.engine.trained.get(case.configuration)
        self.request.node.user_properties.append(
            (RESULT_PROPERTY, {"result": result.to_dict(), "expected": expected,
                               "trained": trained})
        )  # fmt: skip
        if expectation is None:
            return
        failure = expectation.failure(result.f1)
        if failure:
            pytest.fail(f"{case_id(case)}: {failure}", pytrace=False)


class MeasuredClock:
    """pytest-benchmark's timer for a time measured where the work ran (the training
    worker): the next reading is 0, the one after it the measured seconds."""

    __name__ = "xner_measured"  # the timer --benchmark-json names

    def __init__(self) -> None:
        self.readings = iter(())

    def load(self, seconds: float) -> None:
        self.readings = iter((0.0, float(seconds)))

    def __call__(self) -> float:
        return next(self.readings)


CLOCK = pytest.StashKey[MeasuredClock]()
BENCHMARK_GROUP = "xner"


def time_with_benchmark(item: pytest.Item) -> None:
    """A benchmark case's pytest-benchmark settings, by its public `benchmark` marker."""
    if item.config.pluginmanager.has_plugin("benchmark"):
        clock = item.stash[CLOCK] = MeasuredClock()
        item.add_marker(pytest.mark.benchmark(group=BENCHMARK_GROUP, timer=clock))


@pytest.fixture
def xner_seed(case) -> int:
    """The seed of this case (its CaseId's; --xner-seeds gives one case per seed)."""
    return case.seed


@pytest.fixture
def xner_bench(request: pytest.FixtureRequest) -> Bench:
    """Runs, records and checks one benchmark case."""
    timed = request.config.pluginmanager.has_plugin("benchmark") and CLOCK in request.node.stash
    return Bench(request, request.getfixturevalue("benchmark") if timed else None)
