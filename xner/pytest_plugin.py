"""pytest plugin: options, the `xner_bench` fixture, and the report's tables and plots.

Hooks only; the state lives in one `XnerSession` in `config.stash`. Results travel from the
test (on whichever pytest-xdist worker) to the controller as `user_properties` of the test's
report, so every worker's results reach the tables, and the controller rewrites the result
files after each one, so a crash or Ctrl-C keeps what finished.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
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
    baseline: list | None = None  # the --xner-compare run, read once before any case
    records: list[Record] = field(default_factory=list)
    studies: dict = field(default_factory=dict)
    regressions: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def study(self, profile: str):
        """One Study per profile per process, so each configuration trains once."""
        if profile not in self.studies:
            from xner.profiles import get_profile
            from xner.study import Study

            self.studies[profile] = Study(get_profile(profile), self.model, self.data)
        return self.studies[profile]

    def results(self):
        from xner.results import Result

        return [Result.from_dict(r.result) for r in self.records]

    def expected_cells(self) -> dict:
        from xner.report import cell_of
        from xner.results import Result

        return {
            cell_of(Result.from_dict(r.result)): r.expected["f1"]
            for r in self.records
            if r.expected is not None
        }

    def expected_sources(self) -> str:
        sources = sorted({r.expected.get("source", "") for r in self.records if r.expected})
        return f"Expected figures from {', '.join(sources)}.\n\n" if any(sources) else ""

    def suspects(self) -> list[str]:
        return [
            f"{r.nodeid}: F1 {r.result['f1']:.4f} is far above the expected "
            f"{r.expected['f1']:.4f}{' (' + r.expected['why'] + ')' if r.expected['why'] else ''}"
            for r in self.records
            if r.expected is not None and r.expected.get("suspect")
        ]

    @cached_property
    def run_facts(self) -> dict:
        from xner.results import run_facts

        return run_facts() | {"seeds": self.seeds, "model": self.model, "data": self.data}

    def write_results(self) -> None:
        """results.json, results.csv and tables.md, each written atomically."""
        from xner.report import tables
        from xner.results import save_results, write_atomic

        results = self.results()
        run = self.run_facts
        self.written = [
            save_results(self.results_dir / "results.json", results, run),
            write_atomic(self.results_dir / "results.csv", _csv(results)),
            write_atomic(
                self.results_dir / "tables.md",
                "# xner results\n\n"
                + _provenance(run)
                + self.expected_sources()
                + tables(results, self.expected_cells(), self.baseline, fmt="github"),
            ),
        ]

    def write_plots(self) -> None:
        from xner.report import plot_few_shot, plot_transfer

        results = self.results()
        for path in (
            plot_few_shot(results, self.results_dir / "few_shot.png"),
            plot_transfer(results, self.results_dir / "transfer.png"),
        ):
            if path is not None:
                self.written.append(path)

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


def _csv(results) -> str:
    out = io.StringIO()
    columns = [
        "strategy", "config", "train_langs", "train_size", "eval_lang", "seed", "f1",
        "precision", "recall", "PER", "ORG", "LOC", "n_test", "model", "data_source",
        "train_seconds", "eval_seconds", "device", "profile", "strategy_version",
    ]  # fmt: skip
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = r.to_dict() | r.per_type
        row["train_langs"] = "+".join(r.train_langs)
        writer.writerow(row)
    return out.getvalue()


def _provenance(run: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in run["versions"].items())
    return f"Produced {run['created']} on {run['device']}, commit {run['commit']}; {versions}.\n\n"


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
        baseline=baseline,
    )
    if not config.stash[STATE].is_worker:
        config.pluginmanager.register(ResultCollector(config.stash[STATE]), "xner-results")
    # With -n, keep the cases of one training configuration on one worker (their
    # xdist_group), so it is trained once; plain "load" would scatter them.
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    seeds = metafunc.config.stash[STATE].seeds
    # One seed keeps the case ids plain (test_zero_shot[smoke-de->fr]).
    if "xner_seed" in metafunc.fixturenames and len(seeds) > 1:
        metafunc.parametrize("xner_seed", seeds, ids=[f"seed{s}" for s in seeds])


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: torch only if gpu cases remain
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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


class Bench:
    """What a benchmark case uses: run its case, record the result, check it."""

    def __init__(self, request: pytest.FixtureRequest, benchmark, seed: int):
        self.request = request
        self.benchmark = benchmark
        self.seed = seed
        self.state: XnerSession = request.config.stash[STATE]

    def run(self, case):
        """Train (once per configuration and seed) and score `case`, timed by pytest-benchmark.

        The first case of a configuration carries its training time; the others only their
        evaluation. Both times are also in the benchmark's extra_info.
        """
        study = self.state.study(case.profile)
        result = self.benchmark.pedantic(
            study.score, args=(case.config, self.seed, case.lang), rounds=1, iterations=1
        )
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
        if values:
            self.state.write_results()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or state.is_worker or not state.records:
        return
    state.write_results()
    state.write_plots()
    state.compare()
    if state.regressions and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.is_worker or not state.records:
        return
    from xner.report import tables

    write = terminalreporter.write_line
    terminalreporter.section("xner results")
    for line in tables(
        state.results(), state.expected_cells(), state.baseline, fmt="simple"
    ).splitlines():
        write(line)
    if state.expected_sources():
        write(state.expected_sources().strip())
    for line in state.suspects():
        write(f"SUSPECT {line}", yellow=True)
    if state.compare_path is not None:
        if state.regressions:
            write(f"F1 fell against {state.compare_path}:", red=True)
            for line in state.regressions:
                write(f"  REGRESSION {line}", red=True)
        else:
            write(f"No cell fell by more than {state.compare_fail} against {state.compare_path}.")
    write("wrote " + ", ".join(str(p) for p in state.written))
