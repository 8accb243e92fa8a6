"""Finding cases (xner.plugin.findings) through pytester projects: the real benchmark modules
on a study file of two configurations whose scores are stubbed with Results of known
per-sentence counts (no training), serial and under pytest-xdist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

STUDY = """
model = "tiny"
data = "synthetic"
languages = ["de", "fr"]
mark = "mine"

[fractions]
de = 0.05
fr = 0.05

[strategies.zero-shot]
train = ["de"]
eval = "all"

[strategies.full]
train = ["all"]
eval = "all"

[[findings]]
name = "full-lifts-french"
says = "full is above zero-shot on French"
claim = "full:all->fr - zero-shot:de->fr > 0.2"

[[findings]]
name = "french-beats-german"
says = "a false claim"
claim = "zero-shot:de->de < zero-shot:de->fr"

[[findings]]
name = "full-german-vs-french"
says = "a difference that straddles zero"
claim = "full:all->de > full:all->fr"
"""

# Correct sentences of 200 per cell (one entity each: F1 = correct / 200); the full training
# scores on the other worker, slowly, so a finding case there has to wait for it.
CONFTEST = """
import time

import numpy as np
import pytest

from xner.plugin.session import STATE
from xner.results.intervals import encode_counts
from xner.results.records import Result

CORRECT = {"zero-shot de->de": range(180), "zero-shot de->fr": range(60),
           "full all->de": range(150), "full all->fr": [*range(140), *range(160, 170)]}


def score(study, config, seed, lang):
    if config.strategy == "full":
        time.sleep(2)
    correct = CORRECT[f"{config.strategy} {config.label}->{lang}"]
    counts = np.zeros((200, 3, 3), dtype=np.int64)
    counts[:, 0, 1] = counts[:, 0, 2] = 1
    for i in correct:
        counts[i, 0] = (1, 0, 0)
    f1 = len(correct) / 200
    return Result(
        strategy=config.strategy, train_langs=list(config.train_langs), train_size=100,
        eval_lang=lang, seed=seed, f1=f1, precision=f1, recall=f1, per_type={"PER": f1},
        n_test=200, model="fake", data_source="fake", train_seconds=0.1, eval_seconds=0.1,
        versions={}, device="fake", config=config.label, study=study,
        sentence_counts=encode_counts(counts),
    )


@pytest.fixture(autouse=True)
def _fake(request):
    request.config.stash[STATE].score = score
"""


@pytest.fixture
def project(pytester, monkeypatch):
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    for module in ("test_transfer.py", "test_findings.py"):
        shutil.copy(BENCHMARKS / module, pytester.path / module.replace(".py", "_copy.py"))
    pytester.makeconftest(CONFTEST)
    (pytester.path / "mine.toml").write_text(STUDY)
    return pytester


def run(project, *args):
    return project.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-rA", "--xner-study",
        "mine.toml", "--xner-results", "out", *args,
    )  # fmt: skip


def outcomes(result) -> dict[str, str]:
    """test id -> PASSED/FAILED/SKIPPED, from -rA's short summary."""
    found = {}
    for line in result.stdout.lines:
        words = line.split(" ", 1)
        if words[0] in ("PASSED", "FAILED", "SKIPPED") and len(words) > 1:
            found[words[1].split("::")[-1].split(" ")[0]] = words[0]
    return found


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_findings_are_judged_after_their_cases(project, workers):
    result = run(project, *workers)
    text = result.stdout.str()
    seen = outcomes(result)
    assert seen["test_finding[mine-full-lifts-french]"] == "PASSED", text[-3000:]
    assert seen["test_finding[mine-french-beats-german]"] == "FAILED"
    assert seen["test_finding[mine-full-german-vs-french]"] == "FAILED"
    assert "mine-french-beats-german: contradicted: zero-shot:de->de - zero-shot:de->fr = " \
           "+0.6000 [+0." in text  # fmt: skip
    assert "mine-full-german-vs-french: not established: full:all->de - full:all->fr = " \
           "+0.0000 [-0." in text  # fmt: skip
    tables = (project.path / "out" / "tables.md").read_text(encoding="utf-8")
    assert "### Findings" in tables and "| full-lifts-french " in tables
    saved = json.loads((project.path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [f["verdict"] for f in saved["findings"]] == [
        "holds", "contradicted", "not established",
    ]  # fmt: skip


def test_a_finding_whose_cells_are_deselected_is_skipped_with_the_reason(project):
    result = run(project, "-k", "zero_shot or finding")
    seen = outcomes(result)
    assert seen["test_finding[mine-french-beats-german]"] == "FAILED"  # its cells ran
    assert "test_finding[mine-full-lifts-french]" not in seen  # skipped: -rA says why
    result.stdout.fnmatch_lines(
        ["SKIPPED * mine-full-lifts-french: full:all->fr deselected in this session"]
    )
