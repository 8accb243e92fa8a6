"""Only xner's own error types (xner.errors.XnerError: StudyError, FlagError, ...) and the
system's refusals (OSError) become one-line messages; a KeyError or any other bug keeps its
traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xner.cli import main as cli
from xner.data.hub import HubUnreachableError
from xner.errors import XnerError
from xner.execution.flags import FlagError
from xner.execution.jobs import WorkerError
from xner.reporting.merge import MergeError
from xner.results.records import ResultsFileError
from xner.spec.expected import ExpectedError
from xner.spec.study import StudyError


@pytest.mark.parametrize(
    "kind",
    [StudyError, FlagError, MergeError, ResultsFileError, ExpectedError, WorkerError,
     HubUnreachableError],
)  # fmt: skip
def test_the_projects_error_types_are_xners(kind):
    assert issubclass(kind, XnerError)


def test_a_bug_keeps_its_traceback_a_users_error_is_one_line(monkeypatch, capsys):
    def bug(args):
        return {}["missing"]

    def users(args):
        raise StudyError("study.toml: strategies.x: no such language 'xx'")

    monkeypatch.setitem(cli.RUNS, "compare", bug)
    with pytest.raises(KeyError, match="missing"):
        cli.main(["compare", "a.json", "b.json"])
    monkeypatch.setitem(cli.RUNS, "compare", users)
    assert cli.main(["compare", "a.json", "b.json"]) == 2
    assert capsys.readouterr().err == (
        "xner: error: study.toml: strategies.x: no such language 'xx'\n"
    )


def test_a_bad_results_file_is_one_line(tmp_path):
    (tmp_path / "a.json").write_text('{"schema": 1, "run": [], "results": []}')
    out = subprocess.run(
        [sys.executable, "-m", "xner.cli", "compare", "a.json", "a.json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr == "xner: error: a.json: run: must be an object, got a list\n"
