"""pytest plugin: options, the `xner_bench` fixture, and the report's tables and plots.

Hooks only; the state lives in one `XnerSession` in `config.stash`. Results travel from the
test (on whichever pytest-xdist worker) to the controller as `user_properties` of the test's
report, so every worker's results reach the tables, and the controller rewrites the result
files after each one, so a crash or Ctrl-C keeps what finished.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

RESULT_PROPERTY = "xner_result"


@dataclass
class Record:
    """One measured case as the controller received it."""

    nodeid: str
    result: dict
    expected: dict | None = None


@dataclass
class XnerSession:
    """Everything the plugin keeps for one pytest session."""

    config: pytest.Config
    results_dir: Path
    seeds: list[int]
    model: str | None
    data: str | None
    compare_path: Path | None
    compare_fail: float
    precision: str | None = None
    compile: bool | None = None
    shard: object = None  # xner.schedule.Shard, or None for every case
    baseline: list | None = None  # the --xner-compare run, read once before any case
    records: list[Record] = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)  # (profile, config, seed) -> its Results
    workers: object = None  # xner.jobs.Workers of this process, started on first use
    regressions: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    write_error: str | None = None  # the first result file that could not be written

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def worker_slot(self) -> tuple[int, int]:
        """(this process's index, number of processes training): gw3 of -n 8 is (3, 8)."""
        if not self.is_worker:
            return 0, 1
        info = self.config.workerinput
        return int(info["workerid"].lstrip("gw") or 0), int(info.get("workercount", 1))

    def runtime(self, profile: str):
        from xner.profiles import get_profile

        return get_profile(profile).runtime.with_options(
            precision=self.precision, compile=self.compile
        )

    def job(self, profile: str, config, seed: int):
        """The xner.jobs.Job that trains `config` of `profile` with this session's options."""
        from xner.jobs import Job

        return Job(profile, config, seed, self.runtime(profile), self.model, self.data)

    def score(self, profile: str, config, seed: int, lang: str):
        """The Result of `config` on `lang`: trained (once per process, with every evaluation
        language) in this process's worker, the first time a case of it asks."""
        key = (profile, config, seed)
        if key not in self.outcomes:
            from xner.jobs import Workers
            from xner.results import Result

            if self.workers is None:
                self.workers = Workers(*self.worker_slot())
            outcome = self.workers.run(self.job(profile, config, seed))
            self.outcomes[key] = [Result.from_dict(r) for r in outcome.results]
        return next(r for r in self.outcomes[key] if r.eval_lang == lang)

    def results(self):
        from xner.results import Result

        return [Result.from_dict(r.result) for r in self.records]

    def expected(self) -> list[dict]:
        """Expected-figure records of the measured cells, as results.json keeps them."""
        from xner.output import expected_record
        from xner.results import Result

        return [
            expected_record(Result.from_dict(r.result), r.expected)
            for r in self.records
            if r.expected is not None
        ]

    def suspects(self) -> list[str]:
        return [
            f"{r.nodeid}: F1 {r.result['f1']:.4f} is far above the expected "
            f"{r.expected['f1']:.4f}{' (' + r.expected['why'] + ')' if r.expected['why'] else ''}"
            for r in self.records
            if r.expected is not None and r.expected.get("suspect")
        ]

    @cached_property
    def run_facts(self) -> dict:
        from xner.profiles import PROFILES
        from xner.results import run_facts

        return run_facts() | {
            "seeds": self.seeds,
            "model": self.model,
            "data": self.data,
            "recipes": {name: asdict(p.recipe) for name, p in PROFILES.items()},
            "shard": str(self.shard) if self.shard else None,
        }

    def write_results(self, plots: bool = False) -> None:
        """Every file of the run, through xner's one writer; plots only at the end."""
        from xner.output import write_run

        self.written = write_run(
            self.results_dir, self.results(), self.run_facts, self.expected(), self.baseline,
            plots=plots,
        )  # fmt: skip

    def compare(self) -> None:
        """Cells whose mean F1 fell by more than the allowed amount against the saved run."""
        if self.baseline is None:
            return
        from xner.report import aggregate

        before, now = aggregate(self.baseline), aggregate(self.results())
        for cell, measured in sorted(now.items()):
            # Rounded: 0.60 - 0.59 is 0.010000000000000009 in floating point.
            if cell in before and round(before[cell].mean - measured.mean, 9) > self.compare_fail:
                strategy, label, lang = cell
                self.regressions.append(
                    f"{strategy} {label}->{lang}: F1 {measured.mean:.4f}, was "
                    f"{before[cell].mean:.4f} ({measured.mean - before[cell].mean:+.4f}, "
                    f"allowed -{self.compare_fail:.4f})"
                )


STATE = pytest.StashKey[XnerSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xner", "xner cross-lingual NER benchmarks")
    group.addoption(
        "--xner-model",
        help="hub name or save_pretrained folder; overrides the profile's model",
    )
    group.addoption(
        "--xner-data", help="'hub', 'synthetic' or a PAN-X folder; overrides the profile's data"
    )
    group.addoption(
        "--xner-results", default="results", help="folder for tables and result files (results/)"
    )
    group.addoption(
        "--xner-seeds",
        default="0",
        help="comma-separated seeds; each configuration runs once per seed (default 0)",
    )
    group.addoption("--xner-compare", help="a saved results.json to compare every cell with")
    group.addoption(
        "--xner-compare-fail",
        type=float,
        default=0.01,
        help="fail the session where F1 fell by more than this against --xner-compare (0.01)",
    )
    group.addoption(
        "--xner-precision",
        choices=("auto", "fp32", "bf16", "fp16"),
        help="auto: bf16 mixed precision on GPUs that have it, fp32 on CPU (the default)",
    )
    group.addoption(
        "--xner-compile",
        action="store_true",
        default=None,
        help="torch.compile the model in every training",
    )
    group.addoption(
        "--xner-shard",
        metavar="I/N",
        help="run only shard I of N: a deterministic, cost-balanced share of the training "
        "configurations; combine the shards' results.json with `xner merge`",
    )


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise pytest.UsageError(f"--xner-seeds wants comma-separated integers: {text!r}") from None
    if not seeds:
        raise pytest.UsageError("--xner-seeds names no seed")
    return seeds


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: the report profile (xlm-roberta-base); needs CUDA")
    config.addinivalue_line("markers", "smoke: the CPU profile (tiny model, synthetic PAN-X)")
    compare = config.getoption("xner_compare")
    baseline = None
    if compare is not None:
        # Read now: the run may overwrite this very file, and a bad file should stop the
        # session before anything trains.
        from xner.results import load_results

        if not Path(compare).is_file():
            raise pytest.UsageError(f"--xner-compare: no file {compare!r}")
        try:
            baseline = load_results(compare).results
        except (OSError, ValueError) as err:
            raise pytest.UsageError(f"--xner-compare: {err}") from None
    config.stash[STATE] = XnerSession(
        config=config,
        results_dir=Path(config.getoption("xner_results")),
        seeds=_seeds(config.getoption("xner_seeds")),
        model=config.getoption("xner_model"),
        data=config.getoption("xner_data"),
        compare_path=Path(compare) if compare else None,
        compare_fail=config.getoption("xner_compare_fail"),
        precision=config.getoption("xner_precision"),
        compile=config.getoption("xner_compile"),
        shard=_shard(config.getoption("xner_shard")),
        baseline=baseline,
    )
    if not config.stash[STATE].is_worker:
        config.pluginmanager.register(ResultCollector(config.stash[STATE]), "xner-results")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With -n (xdist's `load` or `loadgroup`), hand out work a training configuration at a
    time: its cases stay on one worker, so it trains once, and configurations go out in
    collection order, which xner sorts longest first.

    xdist's own `loadgroup` would group by `xdist_group` marks, but it does so by editing node
    ids, which pytest 9.2 no longer lets it do (pytest-xdist issue 1386): the cases were
    silently scattered and every worker trained every configuration. The scope here comes from
    the case id itself (`test_full[smoke-all->de]` is in `test_full[smoke-all]`).
    """
    if config.option.dist not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ConfigurationScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return configuration_scope(nodeid)

    config.option.loadscopereorder = False  # keep xner's order, not largest group first
    return ConfigurationScheduling(config, log)


def configuration_scope(nodeid: str) -> str:
    """A benchmark case's node id without its evaluation language; any other test's node id."""
    head, bracket, params = nodeid.partition("[")
    if not bracket or "->" not in params:
        return nodeid
    return head + bracket + re.sub(r"->[^\]\-]+", "", params)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.workers is not None:
        state.workers.close()


def _shard(text: str | None):
    if text is None:
        return None
    from xner.schedule import Shard

    try:
        return Shard.parse(text)
    except ValueError as err:
        raise pytest.UsageError(f"--xner-shard: {err}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    seeds = metafunc.config.stash[STATE].seeds
    # One seed keeps the case ids plain (test_zero_shot[smoke-de->fr]).
    if "xner_seed" in metafunc.fixturenames and len(seeds) > 1:
        metafunc.parametrize("xner_seed", seeds, ids=[f"seed{s}" for s in seeds])


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: torch only if gpu cases remain
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _order_and_shard(config, items)
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(
            reason="gpu: CUDA is not available here; the report profile fine-tunes "
            "xlm-roberta-base and needs a GPU (run `-m smoke` for the CPU profile)"
        )
        for item in gpu_items:
            item.add_marker(skip)
    _preflight(config, [item for item in items if not item.get_closest_marker("skip")])


def _preflight(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before the first training: the results folder takes files, and the model and data of
    every profile about to run resolve. A failure is a usage error naming what and why."""
    cases = [case for case in map(_case_of, items) if case is not None]
    if not cases:
        return
    from xner.output import check_writable
    from xner.profiles import get_profile
    from xner.study import preflight

    state = config.stash[STATE]
    try:
        check_writable(state.results_dir)
        for name in dict.fromkeys(case.profile for case in cases):
            profile = get_profile(name)
            langs = [lang for case in cases if case.profile == name
                     for lang in (*case.config.train_langs, *case.config.eval_langs)]  # fmt: skip
            preflight(state.model or profile.model, state.data or profile.data, langs)
    except (OSError, ValueError, KeyError) as err:
        raise pytest.UsageError(f"xner: {err}") from None


def _case_of(item: pytest.Item):
    """The xner.bench.BenchCase a benchmark item runs, or None for any other test."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("case") if callspec is not None else None


def _order_and_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmark cases longest training first (after every other test), and only the cases
    of this session's shard. Deterministic, so every xdist worker collects the same list."""
    cases = {item: _case_of(item) for item in items if _case_of(item) is not None}
    if not cases:
        return
    from xner.profiles import get_profile
    from xner.schedule import config_cost, config_key, in_shard, longest_first

    state = config.stash[STATE]
    costs, key_of = {}, {}
    for item, case in cases.items():
        profile = get_profile(case.profile)
        key_of[item] = key = config_key(case.profile, case.config)
        costs[key] = config_cost(
            case.config, profile.fractions, profile.recipe.epochs, state.data or profile.data
        )
    keep = in_shard(costs, state.shard)
    deselected = [item for item in items if item in key_of and key_of[item] not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    rank = {key: i for i, key in enumerate(longest_first(costs))}
    items[:] = sorted(
        (item for item in items if item not in deselected),
        key=lambda item: rank[key_of[item]] if item in key_of else -1,
    )


class Bench:
    """What a benchmark case uses: run its case, record the result, check it."""

    def __init__(self, request: pytest.FixtureRequest, benchmark, seed: int):
        self.request = request
        self.benchmark = benchmark
        self.seed = seed
        self.state: XnerSession = request.config.stash[STATE]

    def run(self, case):
        """Train (once per configuration and seed) and score `case`, timed by pytest-benchmark.

        The first case of a configuration carries its training and every evaluation of it (they
        run together in the worker process); the others take no time. The training and
        evaluation times of the case itself are in the benchmark's extra_info and the Result.
        """
        result = self.benchmark.pedantic(
            self.state.score, args=(case.profile, case.config, self.seed, case.lang),
            rounds=1, iterations=1,
        )  # fmt: skip
        self.benchmark.extra_info.update(
            f1=result.f1, train_seconds=result.train_seconds, eval_seconds=result.eval_seconds
        )
        return result

    def check(self, case, result, expectation) -> None:
        """Record `result` beside its expected figure, then assert it meets it."""
        self.request.node.user_properties.append(
            (
                RESULT_PROPERTY,
                {
                    "result": result.to_dict(),
                    "expected": {
                        "f1": expectation.f1,
                        "why": expectation.why,
                        "source": expectation.source,
                        "suspect": expectation.suspect(result.f1),
                    },
                },
            )
        )
        failure = expectation.failure(result.f1)
        if failure:
            pytest.fail(f"{case}: {failure}", pytrace=False)


@pytest.fixture
def xner_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this case (parametrised by --xner-seeds when it names several)."""
    return getattr(request, "param", request.config.stash[STATE].seeds[0])


@pytest.fixture
def xner_bench(request: pytest.FixtureRequest, benchmark, xner_seed: int) -> Bench:
    """Runs, records and checks one benchmark case."""
    return Bench(request, benchmark, xner_seed)


class ResultCollector:
    """Registered on the controller only: takes results from every test report, the
    reports of pytest-xdist workers included, and rewrites the result files."""

    def __init__(self, state: XnerSession):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        values = [value for name, value in report.user_properties if name == RESULT_PROPERTY]
        for value in values:
            self.state.records.append(Record(report.nodeid, value["result"], value["expected"]))
        if values and self.state.write_error is None:
            try:
                self.state.write_results()
            except OSError as err:  # a full disk: say so once, keep measuring, fail at the end
                self.state.write_error = str(err)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or state.is_worker or not state.records:
        return
    if state.write_error is None:
        try:
            state.write_results(plots=True)
        except OSError as err:
            state.write_error = str(err)
    state.compare()
    if (state.regressions or state.write_error) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.is_worker or not state.records:
        return
    from xner.output import expected_cells, expected_sources, runtimes
    from xner.report import tables

    write = terminalreporter.write_line
    terminalreporter.section("xner results")
    results, expected = state.results(), state.expected()
    text = tables(results, expected_cells(expected), state.baseline, fmt="simple")
    for line in text.splitlines():
        write(line)
    for paragraph in (runtimes(results), expected_sources(expected)):
        if paragraph:
            write(paragraph.strip())
    for line in state.suspects():
        write(f"SUSPECT {line}", yellow=True)
    if state.compare_path is not None:
        if state.regressions:
            write(f"F1 fell against {state.compare_path}:", red=True)
            for line in state.regressions:
                write(f"  REGRESSION {line}", red=True)
        else:
            write(f"No cell fell by more than {state.compare_fail} against {state.compare_path}.")
    if state.write_error:
        write(f"xner: {state.write_error}; the files before it are as last written", red=True)
    else:
        write("wrote " + ", ".join(str(p) for p in state.written))
