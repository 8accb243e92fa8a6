"""The fixtures a benchmark case uses: `xner_bench` (run, record and check a case, and time it
through pytest-benchmark) and `xner_seed`."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from xner.plugin.session import RESULT_PROPERTY, STATE, XnerSession
from xner.plugin.xdist import configuration_scope


class Bench:
    """What a benchmark case uses: run its case, record the result, check it."""

    def __init__(self, request: pytest.FixtureRequest, benchmark, seed: int):
        self.request = request
        self.benchmark = benchmark
        self.seed = seed
        self.state: XnerSession = request.config.stash[STATE]

    def run(self, case):
        """Train (once per configuration and seed) and score `case`, and time both.

        Training and every evaluation of a configuration run together in the training worker,
        which times each. pytest-benchmark gets those times, not the round trip to the worker:
        this case's row, in the group `eval`, is its evaluation; the case that asked for the
        training adds a row for it, named after the configuration (`test_zero_shot[smoke-de]`),
        in the group `train`. The Result has both times too.
        """
        key = case.configuration(self.seed)
        result = self.state.score(case.study, case.config, self.seed, case.lang)
        training = {
            "train_seconds": result.train_seconds,
            "train_steps": result.train_steps,
            "seconds_per_step": result.seconds_per_step,
        }
        if key not in self.state.timed:
            self.state.timed.add(key)
            row = configuration_scope(self.request.node.nodeid)
            _record(self.benchmark, "train", result.train_seconds, training, row=row)
        evaluation = {"f1": result.f1, "eval_seconds": result.eval_seconds, **training}
        _record(self.benchmark, "eval", result.eval_seconds, evaluation)
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
                    f"{case}: no expected figures for study {study.name!r} (looked for "
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
            return cache[path].for_case(case)
        except (OSError, ValueError, LookupError) as err:
            pytest.fail(f"{case}: {err.args[0] if err.args else err}", pytrace=False)

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
        trained = self.state.engine.trained.get(case.configuration(self.seed))
        self.request.node.user_properties.append(
            (RESULT_PROPERTY, {"result": result.to_dict(), "expected": expected,
                               "trained": trained})
        )  # fmt: skip
        if expectation is None:
            return
        failure = expectation.failure(result.f1)
        if failure:
            pytest.fail(f"{case}: {failure}", pytrace=False)


class _Measured:
    """pytest-benchmark's clock for a time measured where the work ran (the training
    worker): it reads 0 before the timed call and the measured seconds after it."""

    __name__ = "xner_measured"  # the timer --benchmark-json names

    def __init__(self, seconds: float):
        self.readings = iter((0.0, float(seconds)))

    def __call__(self) -> float:
        return next(self.readings)


def _record(benchmark, group: str, seconds: float, info: dict, row: str | None = None) -> None:
    """`seconds` as one round of pytest-benchmark in group `group`: this test's own row, or a
    new row whose full name is `row`. pytest-benchmark off (under -n) records nothing."""
    if row is not None:
        benchmark = copy.copy(benchmark)  # the same test's settings, a row of its own
        benchmark.fullname, benchmark.name = row, row.rpartition("::")[2]
        benchmark.param = benchmark.name.partition("[")[2].rstrip("]") or None
        benchmark.params, benchmark.extra_info = None, {}
    benchmark.group = group
    benchmark.extra_info.update(info)
    if benchmark.enabled:
        benchmark._timer = _Measured(seconds)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


@pytest.fixture
def xner_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this case (parametrised by --xner-seeds when it names several)."""
    return getattr(request, "param", request.config.stash[STATE].seeds[0])


@pytest.fixture
def xner_bench(request: pytest.FixtureRequest, benchmark, xner_seed: int) -> Bench:
    """Runs, records and checks one benchmark case."""
    return Bench(request, benchmark, xner_seed)
