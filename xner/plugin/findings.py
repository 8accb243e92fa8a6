"""A study's findings as benchmark cases: `test_finding[<study>-<name>]`, a test marked
`xner_findings` parametrised with every finding of the selected studies, run after every case
(it reads their results), passing only when the finding holds.

Registered as a plugin of its own by xner.plugin.hooks (one line), so that its hooks sit beside
the plugin's: parametrising, ordering and skipping (a wrapper around collection, after every
deselection), and, under pytest-xdist, the controller's side. A finding case needs the results
of cases that ran on other workers, and only the controller has them all: it writes what it
has received (the finished cases' node ids and this session's result records) to a file after
every report, and a worker's finding case waits until every case it depends on is in it. No
deadlock: finding cases come after every case in collection order, and a worker runs its share
in that order, so any case a finding waits for is already done on its own worker or runs on
another. Without xdist the session's records are at hand.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pytest

from xner.plugin.session import RESULT_PROPERTY, STATE, XnerSession

MARKER = "xner_findings"
_FILE_KEY = "xner_findings_file"  # workerinput: where the controller publishes its records
_DEPENDS = pytest.StashKey[list]()  # a finding item's cases' node ids
_POLL_SECONDS = 0.1
# On the xdist controller, what it publishes: the file, the finished cases, their results.
_controller: dict | None = None


def register(config: pytest.Config) -> None:
    """Called from xner.plugin.hooks' pytest_configure once the session state exists."""
    import sys

    global _controller
    config.addinivalue_line(
        "markers", f"{MARKER}: the test runs the selected studies' findings (param `finding`)"
    )
    config.pluginmanager.register(sys.modules[__name__], "xner-findings")
    if not config.stash[STATE].is_worker and getattr(config.option, "numprocesses", None):
        folder = Path(tempfile.mkdtemp(prefix="xner-findings-"))
        _controller = {"path": folder / "records.json", "finished": [], "results": [],
                       "stopped": False, "session": None}  # fmt: skip
        _publish(_controller)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _controller
    if _controller is not None and not config.stash[STATE].is_worker:
        _controller["path"].unlink(missing_ok=True)
        _controller["path"].parent.rmdir()
        _controller = None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "finding" not in metafunc.fixturenames or not metafunc.definition.get_closest_marker(MARKER):
        return
    state: XnerSession = metafunc.config.stash[STATE]
    params = [
        pytest.param(finding, id=str(finding),
                     marks=[getattr(pytest.mark, study.mark)] if study.mark else [])
        for study in state.studies.values()
        for finding in study.findings
    ]  # fmt: skip
    metafunc.parametrize("finding", params)


def _finding_of(item: pytest.Item):
    from xner.spec.claims import Finding

    callspec = getattr(item, "callspec", None)
    finding = callspec.params.get("finding") if callspec is not None else None
    return finding if isinstance(finding, Finding) else None


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """After every other hook has ordered, sharded and deselected: finding cases last, each
    knowing its cases, and skipped with the reason where one of its cells will not run here."""
    result = yield
    from xner.plugin.hooks import _case_of

    findings = [item for item in items if _finding_of(item) is not None]
    if not findings:
        return result
    items[:] = [item for item in items if item not in findings] + findings
    node_of: dict[tuple, list[str]] = {}
    for item in items:
        case = _case_of(item)
        if case is not None:
            node_of.setdefault((case.study, *case.cell.local), []).append(item.nodeid)
    state: XnerSession = config.stash[STATE]
    for item in findings:
        finding = _finding_of(item)
        item.stash[_DEPENDS] = [
            node for cell in finding.cells for node in node_of.get((finding.study, *cell), [])
        ]
        absent = [cell for cell in finding.cells if (finding.study, *cell) not in node_of]
        if absent:
            item.add_marker(pytest.mark.skip(reason=_absent_reason(state, finding, absent)))
    return result


def _absent_reason(state: XnerSession, finding, absent) -> str:
    """Why a finding cannot be judged here: its cells deselected, or in another shard."""
    from xner.spec.claims import cell_text

    cells = ", ".join(cell_text(c) for c in absent)
    if state.shard is not None:
        from xner.execution.schedule import config_cost, config_key, in_shard

        study = state.studies[finding.study]
        costs = {
            config_key(study.name, c): config_cost(c, study)
            for s in study.strategies.values() for c in s.configs()
        }  # fmt: skip
        mine = in_shard(costs, state.shard)
        configs = {c.label: c for s in study.strategies.values() for c in s.configs()}
        elsewhere = [
            cell for cell in absent
            if cell[1] in configs and config_key(study.name, configs[cell[1]]) not in mine
        ]  # fmt: skip
        if elsewhere:
            return (
                f"{finding}: {cells} in another shard than {state.shard}; `xner merge` of "
                "the shards' results.json judges it"
            )
    return f"{finding}: {cells} deselected in this session"


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_configure_node(node) -> None:
    if _controller is not None:
        node.workerinput[_FILE_KEY] = str(_controller["path"])


def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller is not None:
        _controller["session"] = session


@pytest.hookimpl(trylast=True)  # after pytest's own count of failures (-x, --maxfail)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """On the xdist controller: publish every finished case's node id and result."""
    published = _controller
    if published is None or report.when == "teardown":
        return
    if report.when == "call" or not report.passed:
        published["finished"].append(report.nodeid)
    for name, value in report.user_properties:
        if name == RESULT_PROPERTY:
            published["results"].append(value["result"])
    session = published.get("session")
    if session is not None and (session.shouldfail or session.shouldstop):
        published["stopped"] = True
    _publish(published)


def _publish(published: dict) -> None:
    from xner.writer import write_atomic

    payload = {k: published[k] for k in ("finished", "results", "stopped")}
    write_atomic(published["path"], json.dumps(payload))


class Findings:
    """What a finding case uses: judge its finding from the results of its cases."""

    def __init__(self, request: pytest.FixtureRequest):
        self.request = request
        self.state: XnerSession = request.config.stash[STATE]

    def results(self) -> list:
        """This session's results: the controller's records, read from its file under xdist
        once every case this finding depends on has finished."""
        from xner.results.records import Result

        if not self.state.is_worker:
            return [Result.from_dict(r.result) for r in self.state.records]
        path = Path(self.request.config.workerinput[_FILE_KEY])
        depends = set(self.request.node.stash.get(_DEPENDS, []))
        while True:
            try:
                published = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # not written yet
                published = {"finished": [], "results": [], "stopped": False}
            if depends <= set(published["finished"]):
                return [Result.from_dict(r) for r in published["results"]]
            if published["stopped"]:
                pytest.skip("the session stopped before this finding's cases finished")
            time.sleep(_POLL_SECONDS)

    def check(self, finding) -> None:
        """Pass on "holds"; fail with the verdict line otherwise."""
        from xner.results.findings import judge

        verdict = judge(finding, self.results())
        if not verdict.holds:
            pytest.fail(verdict.line, pytrace=False)


@pytest.fixture
def xner_findings(request: pytest.FixtureRequest) -> Findings:
    """Judges one finding case."""
    return Findings(request)
