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
# the plugin define are imported here for it. All of them are light (no torch, no studies):
# this module is loaded in every pytest session of an environment that has xner.
from xner.plugin.fixture import xner_bench, xner_seed  # noqa: F401
from xner.plugin.session import PLAN_PROPERTY, RESULT_PROPERTY, STATE, Record, XnerSession
from xner.plugin.xdist import (  # noqa: F401
    pytest_xdist_make_scheduler,
    pytest_xdist_node_collection_finished,
)

# The only marker registered in every session: xner's own name, which no other project uses.
STRATEGY_MARKER = (
    "xner_strategy(name): the test runs the cases of this strategy; without a name, of every "
    "strategy no other test of its module takes"
)
# A study's marker (`gpu`, `smoke`) is registered when its cases are generated, and only if
# the project has no marker of that name: another project's `gpu` stays its own.
STUDY_MARKERS = {
    "gpu": "the report study (xlm-roberta-base); needs CUDA",
    "smoke": "the CPU study (tiny model, synthetic PAN-X)",
}
# xner's cases of a study with this marker are skipped where CUDA is not available.
NEEDS_CUDA = "gpu"


def pytest_addoption(parser: pytest.Parser) -> None:
    from xner.execution.options import PYTEST_PREFIX, add_run_options

    group = parser.getgroup("xner", "xner cross-lingual NER benchmarks")
    add_run_options(group.addoption, prefix=PYTEST_PREFIX)
    # pytest's own: the study to run is `xner run`'s positional STUDY, the comparison its
    # `xner compare` command, and -n is its --jobs.
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
    group.addoption("--xner-compare", help="a saved results.json to compare every cell with")
    group.addoption(
        "--xner-compare-plain",
        action="store_true",
        help="fail on any fall beyond --xner-compare-fail, significant or not (default: only "
        "a significant one, by a paired bootstrap on the same test sentences)",
    )
    group.addoption(
        "--xner-compare-fail",
        default="0.01",
        help="fail the session where F1 fell by more than this against --xner-compare, and "
        "significantly (0.01)",
    )


def pytest_configure(config: pytest.Config) -> None:
    from xner.execution.flags import FlagError, non_negative
    from xner.execution.options import PYTEST_PREFIX, RunOptions

    config.addinivalue_line("markers", STRATEGY_MARKER)
    try:
        get = lambda dest: config.getoption(f"xner_{dest}")  # noqa: E731
        options = RunOptions.parsed(get, prefix=PYTEST_PREFIX)
        compare_fail = config.getoption("xner_compare_fail")
        try:
            compare_fail = non_negative(compare_fail)
        except FlagError as err:
            raise FlagError(f"--xner-compare-fail: {err}") from None
    except FlagError as err:
        raise pytest.UsageError(str(err)) from None
    chosen = config.getoption("xner_study")
    state = config.stash[STATE] = XnerSession(
        config=config,
        options=options,
        compare_fail=compare_fail,
        require_expected=config.getoption("xner_require_expected"),
        compare_plain=config.getoption("xner_compare_plain"),
        chosen=tuple(chosen) if chosen else None,
    )
    if chosen or options.data:
        state.studies  # noqa: B018 -- asked for by name: a bad study file stops the session now
    compare = config.getoption("xner_compare")
    if compare is not None:
        # Read now: the run may overwrite this very file, and a bad file should stop the
        # session before anything trains.
        from xner.results.records import load_results

        if not Path(compare).is_file():
            raise pytest.UsageError(f"--xner-compare: no file {compare!r}")
        try:
            state.baseline = load_results(compare).results
        except (OSError, ValueError) as err:
            raise pytest.UsageError(f"--xner-compare: {err}") from None
        state.compare_path = Path(compare)
    if not state.is_worker:
        config.pluginmanager.register(ResultCollector(state), "xner-results")
    from xner.plugin.findings import register as register_findings

    register_findings(config)  # test_finding[<study>-<name>] (xner.plugin.findings)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    state.close()
    state.release_folder()  # after the last write of the result files (pytest_sessionfinish)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("xner_strategy")
    if "case" not in metafunc.fixturenames or marker is None:
        return  # not one of xner's benchmark tests: nothing of xner loads
    state = metafunc.config.stash[STATE]
    register_study_markers(metafunc.config, state)
    cases, ids = _case_params(state, metafunc, marker)
    metafunc.parametrize("case", cases, ids=ids)


def register_study_markers(config: pytest.Config, state: XnerSession) -> None:
    """The selected studies' markers, where the project has none of that name; before the
    first case (or finding) is parametrised with them."""
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for study in state.studies.values():
        if study.mark and study.mark not in known:
            meaning = STUDY_MARKERS.get(study.mark, f"cases of the {study.name} study")
            config.addinivalue_line("markers", f"{study.mark}: {meaning}")
            known.add(study.mark)


def _case_params(state: XnerSession, metafunc: pytest.Metafunc, marker) -> tuple[list, list]:
    """pytest params (and ids) of the cases a test marked `xner_strategy` runs, in every
    selected study, at every seed, each with its study's marker. A test marked without a name
    takes the strategies that no other test of its module names, so a study's own strategies
    still get cases."""
    from xner.spec.cases import case_id, study_cases

    named = {
        m.args[0]
        for item in vars(metafunc.module).values()
        for m in getattr(item, "pytestmark", [])
        if m.name == "xner_strategy" and m.args
    }
    params, ids = [], []
    several = len(state.seeds) > 1
    for study in state.studies.values():
        if marker.args:
            wanted, catch_all = [s for s in marker.args if s in study.strategies], False
        else:
            wanted, catch_all = [s for s in study.strategies if s not in named], True
        marks = [getattr(pytest.mark, study.mark)] if study.mark else []
        for strategy in wanted:
            for case in study_cases(study, strategy, state.seeds):
                params.append(pytest.param(case, marks=marks))
                ids.append(case_id(case, catch_all, several))
    return params, ids


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: only the cases that remain
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(_case_of(item) for item in items):
        return  # no case of xner's: the session is another project's, left as it is
    _drop_empty_parameter_sets(config, items)
    _order_and_shard(config, items)
    state = config.stash[STATE]
    from xner.plugin.fixture import time_with_benchmark

    for item in items:
        if _case_of(item) is not None:
            time_with_benchmark(item)
    if config.option.collectonly:
        return  # listing cases: no torch, no folder, no file
    _skip_without_cuda(state, items)
    runnable = [item for item in items if not item.get_closest_marker("skip")]
    # The results folder is this session's before anything trains; under -n the controller
    # takes it once the workers have collected (pytest_xdist_node_collection_finished).
    if not state.is_worker and any(map(_case_of, runnable)):
        state.hold_folder()
    _preflight(config, runnable)


def _skip_without_cuda(state: XnerSession, items: list[pytest.Item]) -> None:
    """xner's cases of a study that needs CUDA are skipped where there is none; any other
    test, `gpu`-marked or not, is left alone."""
    needing = [
        item for item in items
        if (case := _case_of(item)) is not None and state.studies[case.study].mark == NEEDS_CUDA
    ]  # fmt: skip
    if not needing:
        return
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(
            reason="gpu: CUDA is not available here; the report study fine-tunes "
            "xlm-roberta-base and needs a GPU (run `-m smoke` for the CPU study)"
        )
        for item in needing:
            item.add_marker(skip)


def _drop_empty_parameter_sets(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A benchmark test whose strategy the selected studies do not have (test_full under a
    study without `full`) is deselected, not reported as an empty parameter set."""
    empty = [
        item for item in items
        if item.get_closest_marker("xner_strategy") and _case_of(item) is None
        and "case" in getattr(item, "fixturenames", ())
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
    from xner.execution.checks import PREFLIGHT_ERRORS, preflight
    from xner.reporting.output import check_writable
    from xner.spec.study import StudyError

    state = config.stash[STATE]
    try:
        check_writable(state.results_dir)
        check_writable(state.engine.cache_dir)
        if state.options.keep:
            check_writable(state.options.keep)  # the history store
        for name in dict.fromkeys(case.study for case in cases):
            if name in state.unsuited:
                raise StudyError(f"--xner-data: {state.unsuited[name]}")
            strategies = list(dict.fromkeys(c.strategy for c in cases if c.study == name))
            preflight(state.studies[name].select(strategies), state.model)
    except PREFLIGHT_ERRORS as err:
        raise pytest.UsageError(f"xner: {err}") from None


def _case_of(item: pytest.Item):
    """The xner.spec.identity.CaseId a benchmark item runs, or None for any other test."""
    if item.get_closest_marker("xner_strategy") is None:
        return None
    from xner.spec.identity import CaseId

    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec is not None else None
    return case if isinstance(case, CaseId) else None


def _order_and_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmark cases in the plan's order, longest training first (after every other
    test), and only those the plan has: this session's shard and --xner-strategy.
    Deterministic, so every xdist worker collects the same list."""
    cases = {item: case for item in items if (case := _case_of(item)) is not None}
    plan = config.stash[STATE].plan({case.configuration.name for case in cases.values()})
    rank = {t.id: i for i, t in enumerate(plan.trainings)}
    deselected = [item for item, case in cases.items() if case.configuration not in rank]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    if plan.trainings and config.stash[STATE].shard:
        # The shard's record of its plan travels with each case's report (to the controller
        # under -n): the collected cases' configurations before the shard took its share.
        state = config.stash[STATE]
        costs = {name: cost for name, cost in plan.all_costs.items()}
        record = state.shard_plan(costs, {case.study for case in cases.values()})
        for item in cases:
            item.user_properties.append((PLAN_PROPERTY, record))
    gone = set(deselected)
    items[:] = sorted(
        (item for item in items if item not in gone),
        key=lambda item: rank[cases[item].configuration] if item in cases else -1,
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
                self.state.plan_record = value
        for value in values:
            self.state.records.append(Record(report.nodeid, value["result"], value["expected"]))
            if value.get("trained") is not None:
                from xner.spec.identity import ConfigId

                r = value["result"]
                key = ConfigId(r["study"], r["strategy"], r["config"], r["seed"])
                self.state.trained[key] = value["trained"]
        # After a case that trained, the files are rewritten at once, so a crash or Ctrl-C
        # keeps what finished; a case read from the cache waits for the session's end (a
        # crash loses nothing of it), which keeps a rerun that trains nothing fast.
        cached = bool(values) and all(value.get("trained") is False for value in values)
        if values and not cached and self.state.write_error is None:
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
    keep = state.options.keep
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
