"""xner's pytest plugin as a good citizen: installed in an environment, it changes nothing in
another project's session (its markers, its imports, its files) until xner's own benchmark
cases are collected; collecting xner's benchmarks imports no torch and writes nothing; and
under pytest-xdist a configuration's cases stay on one worker whatever its languages are
called. Each session runs in its own process, so that what it imports is its own."""

from __future__ import annotations

import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "datasets")


def tree(path: Path) -> set[str]:
    """Every path under `path` but pytester's own (its logs, each session's --basetemp)."""
    return {
        name for p in path.rglob("*")
        if not (name := p.relative_to(path).as_posix()).startswith(("runpytest-", "without"))
        and name not in ("stdout", "stderr")
    }  # fmt: skip


@pytest.fixture(autouse=True)
def top_level_session(monkeypatch):
    """Each session as if started by hand, also when this suite runs under -n; no bytecode
    written, so that a session that writes nothing leaves the folder as it was."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


OTHER_PROJECT_TESTS = """
import sys

import pytest


@pytest.mark.gpu
def test_my_gpu_test():
    assert True


def test_collection_imported_no_torch():
    assert "torch" not in sys.modules
"""


def test_another_project_keeps_its_gpu_marker_its_imports_and_its_files(pytester):
    """A project with its own `gpu` marker and --strict-markers: with xner's plugin loaded,
    its gpu test runs (not skipped by xner), collection imports no torch, `--markers` shows
    its own meaning of `gpu`, and the session leaves the same files as without xner."""
    pytester.makefile(
        ".ini",
        pytest="[pytest]\naddopts = --strict-markers\nmarkers =\n    gpu: my own gpu tests\n",
    )
    pytester.makepyfile(test_mine=OTHER_PROJECT_TESTS)
    before = tree(pytester.path)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", str(pytester.path))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=2)
    assert "xner-" in result.stdout.str(), "the plugin was loaded"  # `plugins: ..., xner-0.1.0`

    markers = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--markers")
    assert "@pytest.mark.gpu: my own gpu tests" in markers.stdout.str()
    assert "needs CUDA" not in markers.stdout.str()

    # What xner adds to the folder: nothing beyond what the same session without it leaves
    # (pytest-benchmark, a dependency, makes its own storage folder in any session).
    made_with = tree(pytester.path) - before
    without = pytester.mkdir("without")
    for name in ("pytest.ini", "test_mine.py"):
        shutil.copy(pytester.path / name, without / name)
    os.chdir(without)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xner", str(without))
    assert plain.ret == pytest.ExitCode.OK, plain.stdout.str()
    made_without = tree(without) - {"pytest.ini", "test_mine.py"}
    assert made_with == made_without


def copy_checkout(dest: Path) -> None:
    """xner's benchmarks with the repository's pytest settings (pyproject.toml, conftest.py)."""
    shutil.copytree(ROOT / "benchmarks", dest / "benchmarks",
                    ignore=shutil.ignore_patterns("__pycache__", ".benchmarks"))  # fmt: skip
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, dest / name)


def imported(stderr: str) -> set[str]:
    """Top-level packages of a `python -X importtime` log."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_collecting_xner_benchmarks_imports_no_torch_and_writes_nothing(pytester):
    copy_checkout(pytester.path)
    before = tree(pytester.path)
    result = pytester.run(
        sys.executable, "-X", "importtime", "-m", "pytest", "benchmarks", "--co", "-q",
        "-m", "smoke", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*test_zero_shot?smoke-de->fr?*", "*/* tests collected*"])
    assert not set(HEAVY) & imported(result.stderr.str())
    assert tree(pytester.path) == before, "no results/, no cache/, no .benchmarks/"


# Scheduling by identity ---------------------------------------------------------------------

HYPHENATED = ("zh-yue", "be-x-old", "bat-smg")  # WikiANN's codes (xner.spec.languages)

FAKE_CONFTEST = '''
import os
from pathlib import Path

import pytest

from factories import make_result

from xner.plugin.session import STATE

HERE = Path(__file__).parent


def fake_score(study, config, seed, lang):
    """A training's stand-in: logs which worker scored which configuration."""
    with open(HERE / "scored.txt", "a") as log:
        log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', '-')} {config.label}\\n")
    return make_result(
        strategy=config.strategy, train_langs=list(config.train_langs), eval_lang=lang,
        seed=seed, config=config.label, study=study, strategy_version=config.version,
    )


@pytest.fixture(autouse=True)
def _fake(request):
    request.config.stash[STATE].score = fake_score
'''


def write_hyphenated_study(path: Path) -> Path:
    data = path / "data"
    data.mkdir()
    sentence = "Anna\tB-PER\nlives\tO\nin\tO\nBerlin\tB-LOC\n\n"
    for lang in HYPHENATED:
        for split in ("train", "dev", "test"):
            (data / f"{split}-{lang}.tsv").write_text(sentence * 4, encoding="utf-8")
    study = path / "hyphens.toml"
    study.write_text(
        f'model = "tiny"\ndata = "data"\nlanguages = {list(HYPHENATED)!r}\n'.replace("'", '"')
        + '[strategies.zero-shot]\ntrain = ["zh-yue", "be-x-old"]\neval = "all"\n'
        '[strategies.multilingual]\ntrain = ["zh-yue+bat-smg"]\neval = "all"\n',
        encoding="utf-8",
    )
    return study


def test_xdist_keeps_a_configuration_on_one_worker_whatever_its_language_codes(pytester):
    """Three configurations of three cases each, on languages with hyphens in their codes,
    under -n 2: each configuration is scored by one worker only (it trains once)."""
    pytest.importorskip("xdist")
    shutil.copy(ROOT / "benchmarks" / "test_transfer.py", pytester.path / "test_hyphens.py")
    pytester.makeconftest(FAKE_CONFTEST)
    shutil.copy(ROOT / "tests" / "factories.py", pytester.path / "factories.py")
    study = write_hyphenated_study(pytester.path)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-n", "2",
        "--xner-study", str(study), "--xner-results", "out",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=9)
    workers = defaultdict(set)
    for line in (pytester.path / "scored.txt").read_text().splitlines():
        worker, label = line.split(" ", 1)
        workers[label].add(worker)
    assert sorted(workers) == ["be-x-old", "zh-yue", "zh-yue+bat-smg"]
    assert all(len(found) == 1 for found in workers.values()), dict(workers)
    assert len(set().union(*workers.values())) == 2, "both workers had work"
