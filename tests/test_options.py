"""One set of run options for both fronts: every option of `xner run` is `--xner-<name>` under
pytest with the same checker, choices, default and help; and both fronts write results.json's
`run` object with the same keys (docs/benchmarks.md, "results.json's run object")."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _pytest.config.argparsing import Parser

from xner.cli.main import build_parser
from xner.execution.options import RUN_OPTIONS
from xner.plugin.hooks import pytest_addoption
from xner.plugin.session import STATE

pytest_plugins = ["pytester"]

# `xner run`'s own: the study is its argument, and --jobs is pytest-xdist's -n under pytest.
CLI_ONLY = {"--jobs": "-n"}
# The keys of results.json's `run`, as docs/benchmarks.md lists them.
RUN_KEYS = {
    "created", "commit", "machine", "python", "platform", "versions", "device", "front",
    "studies", "recipes", "seeds", "shard", "options",
}  # fmt: skip


def cli_options() -> dict[str, argparse.Action]:
    run = next(
        action.choices["run"]
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return {
        name: action
        for action in run._actions
        for name in action.option_strings
        if name.startswith("--") and name != "--help"
    }


def pytest_options() -> dict[str, dict]:
    parser = Parser()
    pytest_addoption(parser)
    return {
        name: option.attrs() for option in parser.getgroup("xner").options
        for name in option.names()
    }  # fmt: skip


def test_every_xner_run_option_is_the_same_xner_option_under_pytest():
    cli, under_pytest = cli_options(), pytest_options()
    aliases = {alias for option in RUN_OPTIONS for alias in option.aliases}
    assert set(cli) - aliases - set(CLI_ONLY) == {f"--{o.name}" for o in RUN_OPTIONS}
    for name, action in cli.items():
        if name in CLI_ONLY or name in aliases:
            continue
        other = under_pytest[f"--xner-{name[2:]}"]
        option = next(o for o in RUN_OPTIONS if f"--{o.name}" == name)
        assert other["help"] == action.help, name
        # The very same checker: argparse's type, and under pytest RunOptions.parsed's.
        assert action.type is option.type, name
        assert other.get("choices") == action.choices, name
        assert other.get("default") == action.default, name
        assert other.get("metavar") == action.metavar, name
        assert other["dest"] == "xner_" + action.dest, name


@pytest.mark.parametrize(
    ("text", "value"), [("0,1,2", [0, 1, 2]), ("7", [7])], ids=["three", "one"]
)
def test_seeds_are_one_syntax_on_both_fronts(pytester, text, value):
    args = build_parser().parse_args(["run", "smoke", "--seeds", text])
    assert list(args.seeds) == value
    config = pytester.parseconfigure("--xner-seeds", text)
    assert config.stash[STATE].seeds == value


def test_a_bad_value_is_refused_alike_by_both_fronts(pytester, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "smoke", "--seeds", "1,1"])
    cli = capsys.readouterr().err
    result = pytester.runpytest("--xner-seeds", "1,1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "xner run: error: argument --seeds: each seed once, got 1 more than once" in cli
    assert result.stderr.str().strip().splitlines() == [
        "ERROR: --xner-seeds: each seed once, got 1 more than once"
    ]


# A study that trains in a few seconds: the tiny model on 80 synthetic sentences, one epoch.
TINY_STUDY = """
model = "tiny"
data = "synthetic"
languages = ["de", "fr"]
[fractions]
de = 0.02
fr = 0.02
[recipe]
learning_rate = 1e-2
epochs = 1
[runtime]
threads = 1
[strategies.zero-shot]
train = ["de"]
eval = "all"
"""


def test_both_fronts_write_the_same_run_object(pytester):
    """pytest trains the study (and fills the cache), `xner run` reruns it on the same
    folder from the cache: both results.json have the documented `run` keys, and the same
    values where the run was the same."""
    root = Path(__file__).resolve().parent.parent
    (pytester.path / "test_bench.py").write_text(
        (root / "benchmarks" / "test_transfer.py").read_text()
    )
    study = pytester.path / "tiny.toml"
    study.write_text(TINY_STUDY)
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    common = ["--xner-study", str(study), "--xner-results", "out", "--xner-seeds", "3"]
    first = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *common],
        cwd=pytester.path, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:]
    by_pytest = json.loads((pytester.path / "out" / "results.json").read_text())["run"]

    second = subprocess.run(
        [sys.executable, "-m", "xner.cli", "run", str(study), "--out", "out", "--seeds", "3",
         "--no-progress"],
        cwd=pytester.path, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    assert "trained 0 configuration(s), 1 from cache" in second.stdout
    by_cli = json.loads((pytester.path / "out" / "results.json").read_text())["run"]

    assert set(by_pytest) == set(by_cli) == RUN_KEYS
    assert (by_pytest["front"], by_cli["front"]) == ("pytest", "xner run")
    for key in ("studies", "recipes", "seeds", "shard"):
        assert by_pytest[key] == by_cli[key], key
    assert by_cli["studies"] == {"tiny": {"source": str(study), "model": "tiny",
                                          "data": "synthetic"}}  # fmt: skip
    assert by_cli["seeds"] == [3] and by_cli["options"]["seeds"] == [3]
    assert set(by_pytest["options"]) == set(by_cli["options"]) == {o.dest for o in RUN_OPTIONS}
