"""The pytest plugin's hooks: options, studies into benchmark cases, collection order and
shards, the result files and the summary. The entry point (pyproject's pytest11) names this
module; the session state is xner.plugin.session, the fixtures xner.plugin.fixture, the
pytest-xdist scheduling xner.plugin.xdist (the way pytest-benchmark splits its plugin).

Results travel from the test (on whichever pytest-xdist worker) to the controller as
`user_properties` of the test's report, so every worker's results reach the tables, and the
controller rewrites the result files after each one, so a crash or Ctrl-C keeps what finished.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# pytest finds fixtures and hooks in this module's namespace: the ones the other modules of
# the plugin define are imported here for it.
from xner.plugin.fixture import xner_bench, xner_seed  # noqa: F401
from xner.plugin.session import PLAN_PROPERTY, RESULT_PROPERTY, STATE, Record, XnerSession
from xner.plugin.xdist import (  # noqa: F401
    pytest_xdist_make_scheduler,
    pytest_xdist_node_collection_finished,
)
from xner.spec.recipe import BOOTSTRAP_RESAMPLES
from xner.spec.runtime import DTYPES

# The markers the plugin registers (pyproject.toml registers none of them: one source).
MARKERS = {
    "gpu": "the report study (xlm-roberta-base); needs CUDA",
    "smoke": "the CPU study (tiny model, synthetic PAN-X)",
    "perf": "speed benchmarks (benchmarks/perf), run on purpose: pytest benchmarks/perf -m perf",
    "xner_strategy(name)": "the test runs the cases of this strategy; without a name, of every "
    "strategy no other test of its module takes",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xner", "xner cross-lingual NER benchmarks")
    group.addoption(
        "--xner-model",
        help="hub name or save_pretrained folder; overrides the study's model",
    )
    group.addoption(
        "--xner-data", help="'hub', 'wikiann', 'synthetic' or a folder; overrides the study's data"
    )
    group.addoption(
        "--xner-study",
        action="append",
        metavar="NAME_OR_FILE",
        help="the study whose cases the benchmarks run: a built-in one or a study file; "
        "repeatable (default: every built-in study, each selected by its marker)",
    )
    group.addoption(
        "--xner-require-expected",
        action="store_true",
        help="fail a case that has no expected figure (default: report it as measured)",
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
        "--xner-compare-plain",
        action="store_true",
        help="fail on any fall beyond --xner-compare-fail, significant or not (default: only "
        "a significant one, by a paired bootstrap on the same test sentences)",
    )
    group.addoption(
        "--xner-bootstrap",
        default=BOOTSTRAP_RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples of each F1's 95%% interval (default {BOOTSTRAP_RESAMPLES}; "
        "0: none)",
    )
    group.addoption(
        "--xner-compare-fail",
        default=0.01,
        help="fail the session where F1 fell by more than this against --xner-compare, and "
        "significantly (0.01)",
    )
    group.addoption(
        "--xner-dtype",
        choices=DTYPES,
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
    group.addoption(
        "--xner-cache",
        metavar="DIR",
        help="folder of the training cache, shared with `xner run --cache` (default: "
        "cache/ in --xner-results); a rerun trains only what it lacks",
    )
    group.addoption(
        "--xner-keep",
        metavar="DIR",
        help="at the end, keep the run's files in the history store DIR (a new subfolder named "
        "by date, commit and versions), for `xner history DIR`",
    )
    group.addoption(
        "--xner-force",
        action="store_true",
        help="retrain every configuration, ignoring the cache (and replacing its entries)",
    )


def _seeds(text: str) -> list[int]:
    from xner.execution.flags import seed_list

    try:
        return seed_list(text)
    except ValueError as err:
        raise pytest.UsageError(f"--xner-seeds: {err}") from None


def _checked(config: pytest.Config, name: str, checker: str, *args):
    """An option's value through its xner.execution.flags checker; a bad one is a usage error."""
    from xner.execution import flags

    check = getattr(flags, checker)
    check = check(*args) if args else check
    try:
        return check(str(config.getoption(name)))
    except ValueError as err:
        raise pytest.UsageError(f"--{name.replace('_', '-')}: {err}") from None


def pytest_configure(config: pytest.Config) -> None:
    for marker, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {meaning}")
    studies, unsuited = _studies(config)
    bootstrap = _checked(config, "xner_bootstrap", "at_least", 0, "resamples")
    for study in studies.values():
        if study.mark:
            config.addinivalue_line("markers", f"{study.mark}: cases of the {study.name} study")
    compare = config.getoption("xner_compare")
    baseline = None
    if compare is not None:
        # Read now: the run may overwrite this very file, and a bad file should stop the
        # session before anything trains.
        from xner.results.records import load_results

        if not Path(compare).is_file():
            raise pytest.UsageError(f"--xner-compare: no file {compare!r}")
        try:
            baseline = load_results(compare).results
        except (OSError, ValueError) as err:
            raise pytest.UsageError(f"--xner-compare: {err}") from None
    state = config.stash[STATE] = XnerSession(
        config=config,
        results_dir=Path(config.getoption("xner_results")),
        seeds=_seeds(config.getoption("xner_seeds")),
        model=config.getoption("xner_model"),
        data=config.getoption("xner_data"),
        compare_path=Path(compare) if compare else None,
        compare_fail=_checked(config, "xner_compare_fail", "non_negative"),
        dtype=config.getoption("xner_dtype"),
        compile=config.getoption("xner_compile"),
        shard=_shard(config.getoption("xner_shard")),
        baseline=baseline,
        studies=studies,
        unsuited=unsuited,
        require_expected=config.getoption("xner_require_expected"),
        bootstrap=bootstrap,
        compare_plain=config.getoption("xner_compare_plain"),
    )
    from xner.execution.engine import Engine

    state.engine = Engine(
        state.results_dir, config.getoption("xner_cache"), config.getoption("xner_force"),
        state.model, state.data, state.dtype, state.compile, slot=state.worker_slot(),
    )  # fmt: skip
    if not config.stash[STATE].is_worker:
        config.pluginmanager.register(ResultCollector(config.stash[STATE]), "xner-results")
    from xner.plugin.findings import register as register_findings

    register_findings(config)  # test_finding[<study>-<name>] (xner.plugin.findings)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if state.engine is not None:
        state.engine.close()
    state.release_folder()  # after the last write of the result files (pytest_sessionfinish)


def _studies(config: pytest.Config) -> tuple[dict, dict]:
    """The studies whose cases the benchmark modules run, checked now: a bad study file is a
    usage error naming the file and the key, before anything is collected or trained. Also
    returns, per built-in study that --xner-data does not suit, why (an error only if its
    cases run)."""
    from xner.spec.study import StudyError, built_in_studies, load_study

    chosen, data = config.getoption("xner_study"), config.getoption("xner_data")
    studies, unsuited = [], {}
    for name in chosen or built_in_studies():
        try:
            studies.append(load_study(name, data))
        except StudyError as err:
            if chosen or data is None:
                raise pytest.UsageError(f"--xner-study: {err}") from None
            # A built-in study that --xner-data does not suit (the report's few-shot sizes
            # on synthetic data) only matters if its cases run: _preflight says so then.
            studies.append(load_study(name))
            unsuited[name] = str(err)
    by_name = {}
    for study in studies:
        if study.name in by_name:
            raise pytest.UsageError(
                f"--xner-study: two studies are named {study.name!r} ({study.source}, "
                f"{by_name[study.name].source}); rename one file"
            )
        by_name[study.name] = study
    return by_name, unsuited


def _shard(text: str | None):
    if text is None:
        return None
    from xner.execution.schedule import Shard

    try:
        return Shard.parse(text)
    except ValueError as err:
        raise pytest.UsageError(f"--xner-shard: {err}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = metafunc.config.stash[STATE]
    if "case" in metafunc.fixturenames and metafunc.definition.get_closest_marker("xner_strategy"):
        metafunc.parametrize("case", _case_params(state, metafunc))
    seeds = state.seeds
    # One seed keeps the case ids plain (test_zero_shot[smoke-de->fr]).
    if "xner_seed" in metafunc.fixturenames and len(seeds) > 1:
        metafunc.parametrize("xner_seed", seeds, ids=[f"seed{s}" for s in seeds])


def _case_params(state: XnerSession, metafunc: pytest.Metafunc) -> list:
    """pytest params of the cases a test marked `xner_strategy` runs, in every selected study,
    each with its study's marker. A test marked without a name takes the strategies that no
    other test of its module names, so a study's own strategies still get cases."""
    from xner.spec.cases import study_cases

    marker = metafunc.definition.get_closest_marker("xner_strategy")
    named = {
        m.args[0]
        for item in vars(metafunc.module).values()
        for m in getattr(item, "pytestmark", [])
        if m.name == "xner_strategy" and m.args
    }
    params = []
    for study in state.studies.values():
        if marker.args:
            wanted, catch_all = [s for s in marker.args if s in study.strategies], False
        else:
            wanted, catch_all = [s for s in study.strategies if s not in named], True
        marks = [getattr(pytest.mark, study.mark)] if study.mark else []
        for strategy in wanted:
            for case in study_cases(study, strategy, named_by_strategy=catch_all):
                params.append(pytest.param(case, id=str(case), marks=marks))
    return params


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: torch only if gpu cases remain
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _drop_empty_parameter_sets(config, items)
    _order_and_shard(config, items)
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items:
        import torch

        if not torch.cuda.is_available():
            skip = pytest.mark.skip(
                reason="gpu: CUDA is not available here; the report study fine-tunes "
                "xlm-roberta-base and needs a GPU (run `-m smoke` for the CPU study)"
            )
            for item in gpu_items:
                item.add_marker(skip)
    runnable = [item for item in items if not item.get_closest_marker("skip")]
    state = config.stash[STATE]
    # The results folder is this session's before anything trains; under -n the controller
    # takes it once the workers have collected (pytest_xdist_node_collection_finished).
    if not state.is_worker and not config.option.collectonly and any(map(_case_of, runnable)):
        state.hold_folder()
    _preflight(config, runnable)


def _drop_empty_parameter_sets(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A benchmark test whose strategy the selected studies do not have (test_full under a
    study without `full`) is deselected, not reported as an empty parameter set."""
    empty = [
        item for item in items
        if item.get_closest_marker("xner_strategy") and _case_of(item) is None
    ]  # fmt: skip
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


def _preflight(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before the first training: the results folder takes files, and the model and data of
    every study about to run resolve. A failure is a usage error naming what and why."""
    cases = [case for case in map(_case_of, items) if case is not None]
    if not cases:
        return
    from xner.data.hub import HubUnreachableError
    from xner.execution.runner import preflight
    from xner.reporting.output import check_writable

    state = config.stash[STATE]
    try:
        check_writable(state.results_dir)
        check_writable(state.engine.cache_dir)
        if config.getoption("xner_keep"):
            check_writable(config.getoption("xner_keep"))  # the history store
        for name in dict.fromkeys(case.study for case in cases):
            if name in state.unsuited:
                raise ValueError(f"--xner-data: {state.unsuited[name]}")
            strategies = list(dict.fromkeys(c.config.strategy for c in cases if c.study == name))
            preflight(state.studies[name].select(strategies), state.model)
    except (OSError, ValueError, KeyError, HubUnreachableError) as err:
        raise pytest.UsageError(f"xner: {err}") from None


def _case_of(item: pytest.Item):
    """The xner.spec.cases.BenchCase a benchmark item runs, or None for any other test."""
    from xner.spec.cases import BenchCase

    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec is not None else None
    return case if isinstance(case, BenchCase) else None


def _order_and_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmark cases longest training first (after every other test), and only the cases
    of this session's shard. Deterministic, so every xdist worker collects the same list."""
    cases = {item: _case_of(item) for item in items if _case_of(item) is not None}
    if not cases:
        return
    from xner.execution.schedule import config_cost, config_key, in_shard, longest_first

    state = config.stash[STATE]
    costs, key_of = {}, {}
    for item, case in cases.items():
        study = state.studies[case.study]
        key_of[item] = key = config_key(case.study, case.config)
        costs[key] = config_cost(case.config, study)
    keep = in_shard(costs, state.shard)
    if state.shard:  # the plan travels with each case's report, to the controller under -n
        plan = state.shard_plan(costs, {case.study for case in cases.values()})
        for item in key_of:
            item.user_properties.append((PLAN_PROPERTY, plan))
    deselected = [item for item in items if item in key_of and key_of[item] not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    rank = {key: i for i, key in enumerate(longest_first(costs))}
    items[:] = sorted(
        (item for item in items if item not in deselected),
        key=lambda item: rank[key_of[item]] if item in key_of else -1,
    )


class ResultCollector:
    """Registered on the controller only: takes results from every test report, the
    reports of pytest-xdist workers included, and rewrites the result files."""

    def __init__(self, state: XnerSession):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        values = [value for name, value in report.user_properties if name == RESULT_PROPERTY]
        for name, value in report.user_properties:
            if name == PLAN_PROPERTY:
                self.state.plan = value
        for value in values:
            self.state.records.append(Record(report.nodeid, value["result"], value["expected"]))
            if value.get("trained") is not None:
                from xner.spec.identity import ConfigId

                r = value["result"]
                key = ConfigId(r["study"], r["strategy"], r["config"], r["seed"])
                self.state.trained[key] = value["trained"]
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
    keep = session.config.getoption("xner_keep")
    if keep and state.write_error is None:
        from xner.reporting.store import keep_run

        try:
            state.kept = keep_run(keep, state.run_facts, state.written)
        except (OSError, ValueError) as err:
            state.write_error = str(err)
    state.compare()
    if (state.regressions or state.write_error) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.is_worker or not state.records:
        return
    from xner.reporting.output import expected_cells, expected_sources, runtimes
    from xner.reporting.tables import tables

    write = terminalreporter.write_line
    terminalreporter.section("xner results")
    results, expected = state.folder_records()  # as tables.md has them
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
    kept = len(results) - len(state.records)
    if kept > 0:
        write(f"kept {kept} record(s) of the earlier run in {state.results_dir}")
    if state.trained_summary():
        write(state.trained_summary() + f" (cache: {state.engine.cache_dir})")
    if state.write_error:
        write(f"xner: {state.write_error}; the files before it are as last written", red=True)
    else:
        # One entry for the predictions files (one per cell: hundreds in a large study).
        files = [p for p in state.written if p.parent.name != "predictions"]
        cells = [p for p in state.written if p.parent.name == "predictions"]
        listed = [str(p) for p in files] + ([f"{cells[0].parent}/ ({len(cells)} predictions "
                                              "files)"] if cells else [])  # fmt: skip
        write("wrote " + ", ".join(listed))
    if state.kept is not None:
        write(f"kept the run in {state.kept}/")
