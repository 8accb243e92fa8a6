"""The pytest plugin (xner.plugin.hooks) end to end, through pytester projects.

Each project runs the real benchmark module: benchmarks/test_transfer.py is copied into it, so a
change to that module is what these tests run. Training is stubbed in most: the project's
conftest replaces the `score` of the plugin's `XnerSession` with a fake study's, which returns
a `Result` from a table of F1 figures (fake.json), checked against the project's own
expected/smoke.toml, so what runs is the plugin's own code: options, markers, recording, result
files, tables, plots, comparison, the folder lock, pytest-benchmark's rows and the transport of
results from pytest-xdist workers. Offline, CPU only; one test trains the smallest
configuration of the smoke study for real.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xner.spec.study import load_study

pytest_plugins = ["pytester"]

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SMOKE, REPORT = load_study("smoke"), load_study("report")
# Few-shot sizes are the studies' business (the smoke study scales the report's down).
SMOKE_SIZES = SMOKE.few_shot_sizes
REPORT_SIZES = REPORT.few_shot_sizes
FEW_SHOT_F1 = (0.40, 0.55, 0.65, 0.70, 0.75)  # by rank of n
FEW_SHOT_EXPECTED = (0.38, 0.55, 0.65, 0.70, 0.75)
assert len(SMOKE_SIZES) == len(FEW_SHOT_F1) == len(REPORT_SIZES)
LANGS = ("de", "fr", "it", "en")

# The fake study's F1 per cell (strategy, configuration label -> evaluation language), seed 0;
# seed s adds SEED_STEP * s. Few-shot fr passes zero-shot fr (0.60) between its 2nd and 3rd n.
F1 = {
    "zero-shot de->de": 0.80,
    "zero-shot de->fr": 0.60,
    "zero-shot de->it": 0.58,
    "zero-shot de->en": 0.52,
    **{f"few-shot fr:{n}->fr": f1 for n, f1 in zip(SMOKE_SIZES, FEW_SHOT_F1, strict=True)},
    "multilingual de+fr->de": 0.85,
    "multilingual de+fr->fr": 0.84,
    "multilingual de+fr->it": 0.70,
    "multilingual de+fr->en": 0.65,
    "full all->de": 0.86,
    "full all->fr": 0.85,
    "full all->it": 0.83,
    "full all->en": 0.82,
}
SEED_STEP = 0.01

# Expected figures (tolerance 0.03, flag_above 0.1 for every strategy): every case passes.
EXPECTED = {
    "zero-shot": {"de->de": 0.75, "de->fr": 0.58, "de->it": 0.55, "de->en": 0.50},
    "few-shot": {f"fr:{n}->fr": f1 for n, f1 in zip(SMOKE_SIZES, FEW_SHOT_EXPECTED, strict=True)},
    "multilingual": {"de+fr->de": 0.84, "de+fr->fr": 0.83, "de+fr->it": 0.69, "de+fr->en": 0.64},
    "full": {"all->de": 0.85, "all->fr": 0.84, "all->it": 0.82, "all->en": 0.81},
}


def case_ids(study: str, sizes) -> list[str]:
    return [
        *(f"test_zero_shot[{study}-de->{lang}]" for lang in LANGS),
        *(f"test_few_shot[{study}-fr:{n}->fr]" for n in sizes),
        *(f"test_multilingual[{study}-de+fr->{lang}]" for lang in LANGS),
        *(f"test_full[{study}-all->{lang}]" for lang in LANGS),
    ]


SMOKE_IDS = case_ids("smoke", SMOKE_SIZES)
GPU_IDS = case_ids("report", REPORT_SIZES)
# The order cases run in: longest training first. By hand from the smoke study's corpus
# (4,000 synthetic train rows per language before half the report's fractions): all four
# languages train on (0.3145 + 0.1145 + 0.042 + 0.0295) x 4,000 = 2,002 rows, de+fr on 1,716,
# de on 1,258, few-shot on its n (400 down to 50).
SMOKE_RUN_ORDER = (
    [i for i in SMOKE_IDS if i.startswith("test_full")]
    + [i for i in SMOKE_IDS if i.startswith("test_multilingual")]
    + [i for i in SMOKE_IDS if i.startswith("test_zero_shot")]
    + [f"test_few_shot[smoke-fr:{n}->fr]" for n in sorted(SMOKE_SIZES, reverse=True)]
)
OPTIONS = {
    "--xner-model",
    "--xner-data",
    "--xner-study",
    "--xner-require-expected",
    "--xner-results",
    "--xner-seeds",
    "--xner-compare",
    "--xner-compare-fail",
    "--xner-compare-plain",
    "--xner-bootstrap",
    "--xner-dtype",
    "--xner-compile",
    "--xner-shard",
    "--xner-cache",
    "--xner-force",
    "--xner-strategy",
    "--xner-no-progress",
    "--xner-keep",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

PROJECT_CONFTEST = '''
import json
import os
import time
from pathlib import Path

import pytest

from factories import make_result  # tests/factories.py, copied beside this conftest

from xner.plugin.session import STATE
from xner.spec.study import load_study

HERE = Path(__file__).parent


class FakeStudy:
    """Scores a case from fake.json instead of training; `actions` interrupt, crash, or
    pause (until the file `resume` appears, having written `paused`)."""

    def __init__(self, name):
        self.study = load_study(name)

    def score(self, config, seed, lang):
        spec = json.loads((HERE / "fake.json").read_text())
        cell = f"{config.strategy} {config.label}->{lang}"
        action = spec["actions"].get(cell)
        if action == "interrupt":
            raise KeyboardInterrupt
        if action == "crash":
            os._exit(1)
        with open(HERE / "scored.txt", "a") as log:  # which session scored what
            log.write(f"{os.environ.get('XNER_SESSION', '-')} {cell}\\n")
        if action == "pause":
            (HERE / "paused").write_text(str(os.getpid()))
            deadline = time.monotonic() + 120
            while not (HERE / "resume").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        f1 = spec["f1"][cell] + spec["seed_step"] * seed
        return make_result(
            f1, strategy=config.strategy, train_langs=list(config.train_langs),
            train_size=config.size or 1000, eval_lang=lang, seed=seed,
            precision=f1 + 0.01, recall=f1 - 0.01,
            per_type={"PER": f1 + 0.02, "ORG": f1 - 0.02, "LOC": f1}, n_test=100,
            model="fake-model", data_source="fake-data", train_seconds=1.5, eval_seconds=0.25,
            train_steps=30, seconds_per_step=0.05, versions={"xner": "fake"}, runtime={},
            device="fake:" + os.environ.get("PYTEST_XDIST_WORKER", "main"),
            config=config.label, study=self.study.name, strategy_version=config.version,
            size=config.size, reference=self.study.strategies[config.strategy].reference,
        )


@pytest.fixture(autouse=True)
def _fake_study(request):
    state = request.config.stash[STATE]
    state.score = lambda study, config, seed, lang: FakeStudy(study).score(config, seed, lang)
'''


@pytest.fixture(scope="module", autouse=True)
def _heavy_modules_loaded_once():
    """Import what inner runs need before any pytester exists: pytester restores sys.modules
    after each in-process run, and torch cannot be imported twice in one process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import torch  # noqa: F401

    import xner.execution.runner  # noqa: F401
    import xner.reporting.tables  # noqa: F401
    import xner.spec.expected  # noqa: F401
    import xner.spec.study  # noqa: F401


# The built-in conll_smoke study's two cells, which a session of every built-in study scores.
CONLL_SMOKE_F1 = {"zero-shot en->en": 0.70, "zero-shot en->de": 0.40}


def write_fake(pytester, f1=None, actions=None) -> None:
    figures = F1 | CONLL_SMOKE_F1 | (f1 or {})
    spec = {"f1": figures, "seed_step": SEED_STEP, "actions": actions or {}}
    (pytester.path / "fake.json").write_text(json.dumps(spec))


def write_expected(pytester, overrides=None) -> None:
    """expected/smoke.toml beside the benchmark module; `overrides` maps (strategy, key) to a
    figure."""
    overrides = overrides or {}
    lines = []
    for strategy, cells in EXPECTED.items():
        version = SMOKE.strategies[strategy].version
        lines += [f"[{strategy}]", f"version = {version}", "tolerance = 0.03", "flag_above = 0.1"]
        lines.append(f"[{strategy}.cells]")
        for key, f1 in cells.items():
            f1 = overrides.get((strategy, key), f1)
            lines.append(f'"{key}" = {{ f1 = {f1}, why = "why {strategy} {key}" }}')
    (pytester.path / "expected").mkdir(exist_ok=True)
    (pytester.path / "expected" / "smoke.toml").write_text("\n".join(lines) + "\n")


COPY = "test_benchmarks_copy.py"


def copy_benchmarks(pytester) -> None:
    """The real benchmark module, as the project's own."""
    # Under another module name: the outer session may have imported benchmarks/test_transfer.py
    # as `test_transfer` already, and an in-process run would refuse a second one by that name.
    shutil.copy(BENCHMARKS / "test_transfer.py", pytester.path / COPY)
    shutil.copy(Path(__file__).parent / "factories.py", pytester.path / "factories.py")


@pytest.fixture(autouse=True)
def top_level_session(monkeypatch):
    """Each project's session runs as if started by hand, also when this suite runs under -n:
    an inner session that inherited xdist's worker variables would take itself for a worker
    (its records named after the outer worker, pytest-benchmark switched off)."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester):
    """The real benchmark module in a project whose study is fake and whose every case passes."""
    copy_benchmarks(pytester)
    pytester.makeconftest(PROJECT_CONFTEST)
    write_fake(pytester)
    write_expected(pytester)
    return pytester


def run(pytester, *args, out="out", subprocess=False, **kwargs):
    """The smoke cases (so a run is the same on a GPU machine), results into `out`."""
    results = ("--xner-results", out) if out else ()
    args = ("-p", "no:cacheprovider", "-m", "smoke", *results, *args)
    if subprocess:
        # hypothesis' plugin only costs start-up time in these projects
        return pytester.runpytest_subprocess(*args, "-p", "no:hypothesispytest")
    return pytester.runpytest(*args, **kwargs)


def ids(reports) -> list[str]:
    return [report.nodeid.split("::", 1)[1] for report in reports]


def outcomes(result) -> tuple[list[str], list[str], list[str]]:
    """Ids of the passed, skipped and failed cases of an in-process run."""
    passed, skipped, failed = result.reprec.listoutcomes()
    return ids(passed), ids(skipped), ids(failed)


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cells(records) -> list[tuple]:
    return sorted((r["strategy"], r["config"], r["eval_lang"], r["seed"]) for r in records)


def tables_body(path: Path) -> str:
    """tables.md without its provenance lines (date, device, commit, versions; expected file)."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n\n### ")
    assert sep and any(line.startswith("Produced ") for line in head.splitlines()), text[:300]
    return "### " + body


# 1. options -----------------------------------------------------------------------------------


def test_options_are_one_group_in_help(pytester):
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    lines = result.stdout.lines
    start = [i for i, line in enumerate(lines) if line.startswith("xner ")]
    assert len(start) == 1, "one xner option group"
    assert lines[start[0]].rstrip().endswith(":")
    group = []
    for line in lines[start[0] + 1 :]:
        if not line.strip() or not line.startswith(" "):
            break
        group.append(line)
    assert set(re.findall(r"--xner-[a-z-]+", "\n".join(group))) == OPTIONS
    mentions = [i for i, line in enumerate(lines) if "--xner-" in line]
    assert all(start[0] < i <= start[0] + len(group) for i in mentions), "all in one group"


def test_options_reach_the_study(pytester):
    """--xner-model, --xner-data and --xner-dtype go into every training job."""
    pytester.makepyfile(
        """
        from xner.plugin.session import STATE

        def test_study(request):
            state = request.config.stash[STATE]
            config = state.studies["smoke"].strategies["zero-shot"].configs()[0]
            job = state.job("smoke", config, 3)
            assert (job.model, job.data, job.study, job.seed) == (
                "my-model", "my-data", "smoke", 3)
            assert job.runtime.dtype == "bf16"
            assert job.runtime.threads == 1 and job.runtime.portable  # the smoke study's
            assert state.job("report", config, 3).runtime.threads is None
            assert state.seeds == [3, 1]
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--xner-model=my-model", "--xner-data=my-data",
        "--xner-seeds=3,1", "--xner-dtype=bf16",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--xner-seeds", "0,x"),
            "--xner-seeds: a seed is a whole number from 0 to 4294967295, got 'x'",
        ),
        (
            ("--xner-seeds", " , "),
            "--xner-seeds: comma-separated seeds from 0 to 4294967295, got ' , '",
        ),
        (("--xner-compare", "missing.json"), "--xner-compare: no file 'missing.json'"),
        (("--xner-compare", "schema9.json"), "schema9.json: results schema 9"),
    ],
    ids=["seeds-not-integers", "seeds-empty", "compare-missing", "compare-wrong-schema"],
)
def test_bad_option_values_stop_before_any_case(project, args, message):
    """A usage error names the bad value before anything trains; a --xner-compare file that
    cannot be read must not surface as an INTERNALERROR after the first case has trained."""
    (project.path / "schema9.json").write_text('{"schema": 9, "run": {}, "results": []}')
    result = run(project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    assert message in result.stderr.str()
    assert not (project.path / "out").exists()


# 2. markers -----------------------------------------------------------------------------------


def test_markers_select_studies_and_gpu_skips_without_cuda(project):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only machine's behaviour")
    # A study's marker is registered once its cases are collected, not before (xner is inert
    # in sessions without them), with --strict-markers too.
    markers = project.runpytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.xner_strategy(name): *"])
    assert "@pytest.mark.gpu" not in markers.stdout.str()

    common = ("-p", "no:cacheprovider", "--strict-markers", "--xner-results", "out")
    gpu = project.runpytest(*common, "-m", "gpu")
    assert gpu.ret == pytest.ExitCode.OK
    passed, skipped, failed = outcomes(gpu)
    assert (passed, failed) == ([], [])
    assert sorted(skipped) == sorted(GPU_IDS)
    reasons = {report.longrepr[2] for report in gpu.reprec.listoutcomes()[1]}
    assert len(reasons) == 1, reasons
    assert "CUDA" in reasons.pop()
    assert not (project.path / "out").exists(), "nothing measured, nothing written"

    smoke = project.runpytest(*common, "-m", "smoke")
    assert smoke.ret == pytest.ExitCode.OK
    assert outcomes(smoke) == (SMOKE_RUN_ORDER, [], [])

    bare = project.runpytest(*common)  # every built-in study: report, smoke and conll_smoke
    assert bare.ret == pytest.ExitCode.OK
    passed, skipped, failed = outcomes(bare)
    smoke = [case for case in passed if "[smoke-" in case]
    assert (smoke, sorted(skipped), failed) == (SMOKE_RUN_ORDER, sorted(GPU_IDS), [])
    assert sorted(set(passed) - set(smoke)) == [
        "test_zero_shot[conll_smoke-en->de]",
        "test_zero_shot[conll_smoke-en->en]",
    ]


# 3. tables and files --------------------------------------------------------------------------


def test_run_writes_results_tables_and_plots(project):
    # Both resolve before anything trains, so they must exist; --xner-data replaces every
    # selected study's data, so the report study is left out (its few-shot sizes do not fit).
    result = run(project, "--xner-model=tiny", "--xner-data=synthetic", "--xner-study=smoke")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    out = project.path / "out"

    saved = load_json(out / "results.json")
    assert saved["schema"] == 2
    records = saved["results"]
    assert len(records) == len(SMOKE_IDS)
    assert cells(records) == sorted(
        (strategy, label, lang, 0)
        for strategy, rest in (cell.split(" ") for cell in F1)
        for label, lang in [rest.split("->")]
    )
    for record in records:
        assert record["f1"] == pytest.approx(F1[f"{record['strategy']} {record['config']}->"
                                                 f"{record['eval_lang']}"])  # fmt: skip
        assert record["versions"] == {"xner": "fake"} and record["device"] == "fake:main"
    run_facts = saved["run"]
    assert {"created", "commit", "machine", "python", "versions", "device"} <= set(run_facts)
    assert {"xner", "torch", "transformers"} <= set(run_facts["versions"])
    assert run_facts["device"].startswith(("cpu:", "cuda:"))
    assert run_facts["seeds"] == [0] and run_facts["front"] == "pytest"
    assert run_facts["studies"]["smoke"]["model"] == "tiny"
    assert run_facts["studies"]["smoke"]["data"] == "synthetic"
    assert (run_facts["options"]["model"], run_facts["options"]["data"]) == ("tiny", "synthetic")

    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(SMOKE_IDS)
    assert {"strategy", "config", "train_langs", "eval_lang", "seed", "f1", "PER"} <= set(rows[0])
    row = next(r for r in rows if (r["config"], r["eval_lang"]) == ("de+fr", "it"))
    assert (row["strategy"], row["train_langs"], row["seed"]) == ("multilingual", "de+fr", "0")
    assert (float(row["f1"]), float(row["PER"]), float(row["ORG"])) == pytest.approx(
        (0.70, 0.72, 0.68)
    )

    tables = (out / "tables.md").read_text(encoding="utf-8")
    assert tables.startswith("# xner results\n\nProduced ")
    assert "Expected figures from smoke.toml." in tables
    assert run_facts["device"] in tables.splitlines()[2]
    zero_shot = tables.split("### zero-shot", 1)[1].split("###", 1)[0]
    de_row = next(line for line in zero_shot.splitlines() if line.startswith("| de "))
    assert [c.strip() for c in de_row.strip("|").split("|")] == [
        "de",
        "0.8000 (exp 0.7500, +0.0500)",
        "0.6000 (exp 0.5800, +0.0200)",
        "0.5800 (exp 0.5500, +0.0300)",
        "0.5200 (exp 0.5000, +0.0200)",
        "0.6250",  # the mean over the row's test languages
    ]
    few_shot = tables.split("### few-shot", 1)[1].split("###", 1)[0]
    header = next(line for line in few_shot.splitlines() if line.startswith("| n "))
    assert [c.strip() for c in header.strip("|").split("|")] == ["n", *map(str, SMOKE_SIZES)]
    assert "| F1 (fr) " in few_shot and "0.5500 (exp 0.5500, +0.0000)" in few_shot
    assert "0.8400 (exp 0.8300, +0.0100)" in tables  # multilingual de+fr -> fr
    n0, n1 = SMOKE_SIZES[1], SMOKE_SIZES[2]  # 0.55 and 0.65 around zero-shot fr's 0.60
    crossover = (
        f"few-shot fr passes zero-shot de→fr (0.6000) at about n = {math.sqrt(n0 * n1):.0f} "
        f"(between n = {n0}, F1 0.5500, and n = {n1}, F1 0.6500; interpolated linearly in log n)."
    )
    assert crossover in tables

    for name in ("few_shot.png", "transfer.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", name
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 300 and height >= 200 and len(data) > 10_000, (name, width, height)

    text = result.stdout.str()
    result.stdout.fnmatch_lines(["*= xner results =*"])
    summary = text.split("xner results", 1)[1]
    assert "0.8000 (exp 0.7500, +0.0500)" in summary and crossover in summary
    assert "SUSPECT" not in text and "REGRESSION" not in text
    result.stdout.fnmatch_lines(
        ["wrote out/results.json, out/results.csv, out/tables.md, out/few_shot.png, "
         "out/transfer.png, out/report.html"]
    )  # fmt: skip


def test_keep_adds_each_session_to_the_history_store(project, capsys):
    from xner.cli.main import main

    for _ in range(2):
        result = run(project, "--xner-keep", "store")
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        result.stdout.fnmatch_lines(["kept the run in store/*-transformers-*/"])
    kept = sorted((project.path / "store").iterdir())
    kept = [k for k in kept if k.is_dir()]
    assert len(kept) == 2 and kept[0].name != kept[1].name
    for folder in kept:
        assert {"results.json", "tables.md", "report.html"} <= {p.name for p in folder.iterdir()}
        saved = load_json(project.path / "out/results.json")["results"]  # the same figures
        assert load_json(folder / "results.json")["results"] == saved
    assert main(["history", str(project.path / "store"), "--out", str(project.path / "h")]) == 0
    assert f"2 run(s), {len(SMOKE_IDS)} cell(s)" in capsys.readouterr().out


def test_per_type_table_keeps_four_decimals(project):
    """The per-type table formats F1 as 0.8200, like every other cell (tabulate must not
    re-parse the formatted strings into floats and print 0.82)."""
    assert run(project).ret == pytest.ExitCode.OK
    tables = (project.path / "out" / "tables.md").read_text(encoding="utf-8")
    per_type = tables.split("### F1 per entity type", 1)[1]
    row = next(
        line for line in per_type.splitlines() if re.match(r"\| zero-shot +\| de +\| de ", line)
    )
    assert [c.strip() for c in row.strip("|").split("|")][3:] == ["0.8200", "0.7800", "0.8000"]


def test_result_files_are_as_readable_as_the_plots(project):
    """results.json/.csv and tables.md get the same permissions as the plots (the umask's),
    not the private 0600 of a temporary file."""
    assert run(project).ret == pytest.ExitCode.OK
    out = project.path / "out"
    plot_mode = (out / "transfer.png").stat().st_mode & 0o777
    modes = {name: (out / name).stat().st_mode & 0o777 for name in
             ("results.json", "results.csv", "tables.md")}  # fmt: skip
    assert modes == dict.fromkeys(modes, plot_mode), f"plots are {plot_mode:o}"


# 4. a failing threshold -----------------------------------------------------------------------


def test_failing_threshold_fails_only_its_case_and_says_by_how_much(project):
    write_expected(project, {("zero-shot", "de->it"): 0.70})
    result = run(project)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    passed, skipped, failed = outcomes(result)
    assert failed == ["test_zero_shot[smoke-de->it]"]
    assert passed == [i for i in SMOKE_RUN_ORDER if i not in failed] and skipped == []
    result.stdout.fnmatch_lines(
        ["*smoke-de->it: F1 0.5800 is below the expected 0.7000 - 0.0300 (by 0.0900)*"]
    )
    # the failing case is still measured and shown beside its figure
    assert len(load_json(project.path / "out" / "results.json")["results"]) == len(SMOKE_IDS)
    assert "0.5800 (exp 0.7000, -0.1200)" in (project.path / "out" / "tables.md").read_text()


# 5. interrupt and crash -----------------------------------------------------------------------


# What runs before zero-shot de->it, in the longest-first order.
FINISHED_BEFORE_DE_IT = sorted(
    [("full", "all", lang, 0) for lang in LANGS]
    + [("multilingual", "de+fr", lang, 0) for lang in LANGS]
    + [("zero-shot", "de", "de", 0), ("zero-shot", "de", "fr", 0)]
)


def test_interrupted_session_keeps_what_finished(project):
    write_fake(project, actions={"zero-shot de->it": "interrupt"})
    result = run(project, no_reraise_ctrlc=True)  # the inner session's Ctrl-C, not ours
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = project.path / "out"
    records = load_json(out / "results.json")["results"]
    assert cells(records) == FINISHED_BEFORE_DE_IT
    tables = (out / "tables.md").read_text(encoding="utf-8")
    assert "0.6000 (exp 0.5800, +0.0200)" in tables and "0.5800 (exp" not in tables
    assert (out / "transfer.png").read_bytes()[:8] == PNG_MAGIC
    result.stdout.fnmatch_lines(["*= xner results =*"])


def test_hard_crash_keeps_what_finished(project):
    write_fake(project, actions={"zero-shot de->it": "crash"})
    result = run(project, subprocess=True)
    assert result.ret == 1
    out = project.path / "out"
    records = load_json(out / "results.json")["results"]
    assert cells(records) == FINISHED_BEFORE_DE_IT
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(FINISHED_BEFORE_DE_IT)
    tables = (out / "tables.md").read_text(encoding="utf-8")
    assert "0.8000 (exp 0.7500, +0.0500)" in tables and "0.6000 (exp 0.5800, +0.0200)" in tables
    assert [p.name for p in out.glob(".*")] == [".xner.lock"], "no temporary file left behind"


# 6. xdist -------------------------------------------------------------------------------------


def test_xdist_workers_results_all_arrive_and_tables_match(project):
    serial = run(project, out="serial")
    assert serial.ret == pytest.ExitCode.OK
    result = run(project, "-n", "2", "-v", out="parallel", subprocess=True)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    ran = re.findall(r"\[(gw\d)\].*PASSED \S*::(test_\w+\[[^\]]*?)->", result.stdout.str())
    assert {worker for worker, _ in ran} == {"gw0", "gw1"}, "both workers ran cases"
    worker_of = {}
    for worker, configuration in ran:  # every case of a configuration on one worker
        assert worker_of.setdefault(configuration, worker) == worker, configuration

    parallel_records = load_json(project.path / "parallel" / "results.json")["results"]
    serial_records = load_json(project.path / "serial" / "results.json")["results"]
    assert len(parallel_records) == len(SMOKE_IDS)
    assert {r["device"] for r in parallel_records} == {"fake:gw0", "fake:gw1"}
    key = ("strategy", "config", "eval_lang", "seed", "f1", "per_type")

    def facts(records):
        return sorted(json.dumps([r[k] for k in key]) for r in records)

    assert facts(parallel_records) == facts(serial_records)
    assert tables_body(project.path / "parallel" / "tables.md") == tables_body(
        project.path / "serial" / "tables.md"
    )
    result.stdout.fnmatch_lines(["*= xner results =*", "*0.8000 (exp 0.7500, +0.0500)*"])


# 7. --xner-compare ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "args", "regression"),
    [
        (
            0.56,
            (),
            "zero-shot de->fr: F1 0.5600, was 0.6000 (-0.0400, allowed -0.0100); why: "
            "xner diff before/results.json out/results.json --cell 'zero-shot de->fr'",
        ),
        (0.595, (), None),
        (0.56, ("--xner-compare-fail", "0.05"), None),
    ],
    ids=["fell-too-far", "small-drop-allowed", "wider-allowance"],
)
def test_compare_with_a_saved_run(project, now, args, regression):
    assert run(project, out="before").ret == pytest.ExitCode.OK
    write_fake(project, f1={"zero-shot de->fr": now})
    result = run(project, "--xner-compare", "before/results.json", *args)
    text = result.stdout.str()
    assert outcomes(result)[0] == SMOKE_RUN_ORDER, "every case itself passes"
    cell = f"{now:.4f} (exp 0.5800, {now - 0.58:+.4f}) [was 0.6000, {now - 0.60:+.4f}]"
    assert cell in (project.path / "out" / "tables.md").read_text(encoding="utf-8")
    assert "0.8000 (exp 0.7500, +0.0500) [was 0.8000, +0.0000]" in text
    if regression:
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        assert [line.strip() for line in result.outlines if "REGRESSION" in line] == [
            f"REGRESSION {regression}"
        ]
        result.stdout.fnmatch_lines(["F1 fell against before/results.json:"])
    else:
        assert result.ret == pytest.ExitCode.OK
        assert "REGRESSION" not in text
        allowed = args[1] if args else "0.01"
        result.stdout.fnmatch_lines(
            [f"No cell fell by more than {allowed} against before/results.json."]
        )


def test_compare_drop_equal_to_the_allowance_passes(project):
    """0.6000 -> 0.5900 fell by 0.01, not by more than --xner-compare-fail 0.01."""
    assert run(project, out="before").ret == pytest.ExitCode.OK
    write_fake(project, f1={"zero-shot de->fr": 0.59})
    result = run(project, "--xner-compare", "before/results.json")
    assert "REGRESSION" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def test_compare_with_the_results_file_the_run_rewrites(project):
    """The everyday use: compare with the last run in the default results/ folder. The
    baseline must be the file as it was when the session started, not the one this session
    has already rewritten with its own results."""
    assert run(project, out=None).ret == pytest.ExitCode.OK
    write_fake(project, f1={"zero-shot de->fr": 0.56})
    result = run(project, "--xner-compare", "results/results.json", out=None)
    result.stdout.fnmatch_lines(["*REGRESSION zero-shot de->fr: F1 0.5600, was 0.6000*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# 8. seeds -------------------------------------------------------------------------------------


def test_seeds_run_each_case_per_seed_and_tables_show_mean_and_std(project):
    result = run(project, "--xner-seeds", "0,1")
    assert result.ret == pytest.ExitCode.OK
    passed, skipped, failed = outcomes(result)
    expected_ids = {case[:-1] + f"-seed{seed}]" for seed in (0, 1) for case in SMOKE_IDS}
    assert (set(passed), skipped, failed) == (expected_ids, [], [])
    assert len(passed) == 2 * len(SMOKE_IDS)

    saved = load_json(project.path / "out" / "results.json")
    assert saved["run"]["seeds"] == [0, 1]
    records = saved["results"]
    assert len(records) == 2 * len(SMOKE_IDS)
    by_seed = {(r["strategy"], r["config"], r["eval_lang"], r["seed"]): r["f1"] for r in records}
    assert by_seed[("zero-shot", "de", "de", 0)] == pytest.approx(0.80)
    assert by_seed[("zero-shot", "de", "de", 1)] == pytest.approx(0.81)  # seed 1 reached score

    tables = (project.path / "out" / "tables.md").read_text(encoding="utf-8")
    # mean 0.805 and sample std 0.00707 of 0.80 and 0.81, its 95% t-interval (t = 12.706 at
    # one degree of freedom), beside the expected 0.75
    half = 12.706 * 0.01 / 2**0.5 / 2**0.5
    assert (
        f"0.8050 ± 0.0071 [{0.805 - half:.4f}, {0.805 + half:.4f}] (exp 0.7500, +0.0550)" in tables
    )
    assert (
        f"0.6050 ± 0.0071 [{0.605 - half:.4f}, {0.605 + half:.4f}] (exp 0.5800, +0.0250)" in tables
    )
    assert "0.8050 ± 0.0071" in result.stdout.str()


# 9. suspect results ---------------------------------------------------------------------------


def test_result_far_above_its_figure_passes_and_is_flagged(project):
    write_expected(project, {("zero-shot", "de->en"): 0.40})  # 0.52 > 0.40 + flag_above 0.1
    result = run(project)
    assert result.ret == pytest.ExitCode.OK
    assert outcomes(result) == (SMOKE_RUN_ORDER, [], [])
    suspects = [line for line in result.outlines if "SUSPECT" in line]
    assert suspects == [
        f"SUSPECT {COPY}::test_zero_shot[smoke-de->en]: F1 0.5200 is far above the "
        "expected 0.4000 (why zero-shot de->en)"
    ]
    assert "0.5200 (exp 0.4000, +0.1200)" in (project.path / "out" / "tables.md").read_text()


# 8. shards ------------------------------------------------------------------------------------


def test_shards_run_each_case_once_and_merge_into_the_full_tables(project):
    """--xner-shard I/N splits by training configuration; `xner merge` of the shards' results
    rebuilds the full run's tables exactly."""
    from xner.cli.main import main

    assert run(project, out="full").ret == pytest.ExitCode.OK
    shards = []
    for index in (1, 2, 3):
        result = run(project, "--xner-shard", f"{index}/3", out=f"shard{index}")
        assert result.ret == pytest.ExitCode.OK
        passed, skipped, failed = outcomes(result)
        assert passed and not skipped and not failed
        shards.append(passed)
    every = [case for shard in shards for case in shard]
    assert sorted(every) == sorted(SMOKE_IDS), "each case in exactly one shard"
    for shard in shards:  # a configuration's cases stay together (it trains once)
        configs = {case.split("[")[1].split("->")[0] for case in shard}
        assert all(c.split("[")[1].split("->")[0] in configs for c in shard)
        assert not any(
            c.split("[")[1].split("->")[0] in configs for other in shards if other is not shard
            for c in other
        )  # fmt: skip
    merged = project.path / "merged"
    runs = [str(project.path / f"shard{i}" / "results.json") for i in (1, 2, 3)]
    assert main(["merge", *runs, "--out", str(merged)]) == 0
    assert tables_body(merged / "tables.md") == tables_body(project.path / "full" / "tables.md")
    run_facts = json.loads((merged / "results.json").read_text())["run"]
    assert run_facts["whole"] is True and run_facts["shard"] is None  # the plan, covered
    assert sorted(run_facts["shards"]) == ["1/3", "2/3", "3/3"]
    assert (merged / "few_shot.png").read_bytes()[:8] == PNG_MAGIC


def test_bad_shard_is_a_usage_error(project):
    result = run(project, "--xner-shard", "4/3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--xner-shard: shard '4/3': I must be between 1 and N" in result.stderr.str()


# 10. one session per results folder -----------------------------------------------------------


def start_session(project, *args, session: str) -> subprocess.Popen:
    """A pytest session of `project` in a process of its own, on the smoke cases, results
    into out/; `session` names it in scored.txt."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
         "-m", "smoke", "--xner-results", "out", *args],
        cwd=project.path, env={**os.environ, "XNER_SESSION": session},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second"),
    [((), ("-n", "2")), (("-n", "2"), ())],
    ids=["serial-then-xdist", "xdist-then-serial"],
)
def test_a_second_session_on_a_busy_results_folder_stops_before_any_case(project, first, second):
    """Two real sessions on one --xner-results folder. The first holds it from before its first
    case to its end (under -n, its controller does); the second, started while the first is
    in the middle of a case, stops at once: no case of it scores, one line names the folder
    and the process that holds it, no traceback. The first then finishes with every result."""
    write_fake(project, actions={"full all->de": "pause"})  # the first case to run
    holder = start_session(project, *first, session="first")
    try:
        deadline = time.monotonic() + 300
        while not (project.path / "paused").exists():
            assert holder.poll() is None, holder.communicate()
            assert time.monotonic() < deadline, "the first session never reached its case"
            time.sleep(0.05)
        other = start_session(project, *second, session="second")
        other_out, other_err = other.communicate(timeout=300)
    finally:
        (project.path / "resume").touch()
    out, err = holder.communicate(timeout=300)
    assert holder.returncode == pytest.ExitCode.OK, out[-3000:] + err[-3000:]

    assert other.returncode == pytest.ExitCode.USAGE_ERROR, other_out[-3000:] + other_err[-3000:]
    message = (
        f"ERROR: xner: out: in use by another xner run (pid {holder.pid}); give this run its "
        "own folder or wait for that one to end"
    )
    assert message in other_err.splitlines(), other_err
    assert "Traceback" not in other_out + other_err and "INTERNALERROR" not in other_out
    scored = (project.path / "scored.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(scored) == sorted(f"first {cell}" for cell in F1), "the second scored nothing"
    assert len(load_json(project.path / "out" / "results.json")["results"]) == len(SMOKE_IDS)
    assert (project.path / "out" / ".xner.lock").read_text() == f"pid {holder.pid}"


def test_the_folder_is_free_again_when_a_session_ends(project):
    """In one process, one session after another on the same folder: the lock goes with the
    session, interrupted or not (the kernel's flock would refuse even this process)."""
    write_fake(project, actions={"zero-shot de->it": "interrupt"})
    assert run(project, no_reraise_ctrlc=True).ret == pytest.ExitCode.INTERRUPTED
    write_fake(project)
    assert run(project).ret == pytest.ExitCode.OK


def test_collecting_only_holds_no_folder(project):
    assert run(project, "--collect-only").ret == pytest.ExitCode.OK
    assert not (project.path / "out" / ".xner.lock").exists()


# 11. pytest-benchmark: a row per case, through its public API --------------------------------


def test_benchmark_rows_are_each_case_with_its_training(project):
    """pytest-benchmark's table and --benchmark-json have a row per case in the group `xner`,
    its time the evaluation time the Result records (the fake study's 0.25 s), not the time
    the case's call took; its extra info the training's figures (1.5 s, 30 steps), marked on
    the first case of each configuration."""
    result = run(project, "--benchmark-json", "bench.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    rows = load_json(project.path / "bench.json")["benchmarks"]
    assert sorted(row["name"] for row in rows) == sorted(SMOKE_IDS)
    assert {row["group"] for row in rows} == {"xner"}
    for row in rows:
        stats = row["stats"]
        assert (stats["rounds"], stats["min"], stats["max"], stats["mean"]) == (1, *[0.25] * 3)
        assert {"train_seconds": 1.5, "train_steps": 30, "seconds_per_step": 0.05}.items() <= (
            row["extra_info"].items()
        )
    firsts = sorted(row["name"] for row in rows if row["extra_info"]["first_of_training"])
    trainings = sorted({case.rsplit("->", 1)[0] for case in SMOKE_IDS})
    assert sorted(name.rsplit("->", 1)[0] for name in firsts) == trainings
    de_fr = next(row for row in rows if row["name"] == "test_zero_shot[smoke-de->fr]")
    assert (de_fr["extra_info"]["f1"], de_fr["extra_info"]["eval_seconds"]) == (0.60, 0.25)
    result.stdout.fnmatch_lines(["*benchmark 'xner': 17 tests*"])


# 12. the real module, trained for real --------------------------------------------------------


def test_the_real_module_trains_and_times_its_smallest_configuration(pytester):
    """benchmarks/test_transfer.py and benchmarks/expected/ as they are, no fake: the smoke
    study's smallest configuration (few-shot fr:50) trains in a worker process, the case is
    checked against its figure from smoke.toml, and pytest-benchmark's row is the evaluation
    time the Result records, with the training's figures."""
    copy_benchmarks(pytester)
    shutil.copytree(BENCHMARKS / "expected", pytester.path / "expected")
    result = run(pytester, "-k", "fr:50", "--benchmark-json", "bench.json")
    ran = [report.nodeid for report in result.reprec.getreports("pytest_runtest_logreport")
           if report.when == "call"]  # fmt: skip
    assert ran == [f"{COPY}::test_few_shot[smoke-fr:50->fr]"], result.stdout.str()
    saved = load_json(pytester.path / "out" / "results.json")
    (record,) = saved["results"]
    (expected,) = saved["expected"]  # its figure was found and checked
    assert expected["source"].startswith("smoke.toml")
    # ... and met: the case passed, and its F1 lies within smoke.toml's two-sided tolerance.
    result.assert_outcomes(passed=1)
    from xner.results.records import versions
    from xner.spec.expected import load_expected

    figures = load_expected(BENCHMARKS / "expected" / "smoke.toml", versions())
    expectation = figures.cells[("few-shot", f"fr:{SMOKE_SIZES[0]}->fr")]
    assert expected["f1"] == expectation.f1
    assert expectation.failure(record["f1"]) is None, (record["f1"], expectation)
    assert record["train_steps"] > 0 and record["train_seconds"] > record["eval_seconds"] > 0

    (row,) = load_json(pytester.path / "bench.json")["benchmarks"]
    assert (row["group"], row["name"]) == ("xner", "test_few_shot[smoke-fr:50->fr]")
    assert row["stats"]["mean"] == row["stats"]["max"] == record["eval_seconds"]
    facts = {k: record[k] for k in ("train_seconds", "train_steps", "seconds_per_step")}
    assert row["extra_info"] == facts | {"f1": record["f1"], "eval_seconds": record["eval_seconds"],
                                         "first_of_training": True}  # fmt: skip
    result.stdout.fnmatch_lines(["trained 1 configuration(s), 0 from cache (cache: out/cache)"])


# 13. one engine: the cache, reruns, two studies ----------------------------------------------


def test_a_rerun_keeps_the_earlier_records_it_did_not_redo(project):
    """Two sessions on one folder, each a part of the study: results.json, the CSV and the
    tables end with both parts; a case run again takes its new figure."""
    assert run(project, "-k", "zero_shot").ret == pytest.ExitCode.OK
    write_fake(project, f1={"zero-shot de->fr": 0.61})
    result = run(project, "-k", "zero_shot and fr or few_shot")
    assert result.ret == pytest.ExitCode.OK
    out = project.path / "out"
    records = load_json(out / "results.json")["results"]
    zero_shot = {r["eval_lang"]: r["f1"] for r in records if r["strategy"] == "zero-shot"}
    assert zero_shot == pytest.approx({"de": 0.80, "fr": 0.61, "it": 0.58, "en": 0.52})
    assert sorted(r["config"] for r in records if r["strategy"] == "few-shot") == sorted(
        f"fr:{n}" for n in SMOKE_SIZES
    )
    assert len(load_json(out / "results.json")["expected"]) == len(records) == 4 + len(SMOKE_SIZES)
    assert len((out / "results.csv").read_text().splitlines()) == 1 + len(records)
    tables = (out / "tables.md").read_text(encoding="utf-8")
    assert "0.8000 (exp 0.7500, +0.0500)" in tables and "0.6100 (exp 0.5800, +0.0300)" in tables
    result.stdout.fnmatch_lines(["kept 3 record(s) of the earlier run in out"])


def test_both_fronts_build_the_same_job_on_the_same_cache(pytester):
    """pytest and `xner run` reach the same cache entry: for the same study, configuration,
    seed and options they build the same Job (study, runtime, model, data, cache folder)."""
    from xner.cli.main import build_parser
    from xner.cli.run import _engine
    from xner.execution.jobs import Job

    pytester.makepyfile(
        """
        from xner.plugin.session import STATE

        def test_job(request):
            state = request.config.stash[STATE]
            config = state.studies["smoke"].strategies["few-shot"].configs()[0]
            with open("job.json", "w") as out:
                out.write(state.job("smoke", config, 2).to_json())
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--xner-results", "res", "--xner-cache", "shared",
        "--xner-dtype", "fp32", "--xner-force", "--xner-data", "synthetic",
        "--xner-study", "smoke",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    from_pytest = Job.from_json((pytester.path / "job.json").read_text())
    args = build_parser().parse_args(
        ["run", "smoke", "--out", "res", "--cache", "shared", "--dtype", "fp32", "--force",
         "--data", "synthetic"]
    )  # fmt: skip
    config = SMOKE.strategies["few-shot"].configs()[0]
    from_cli = _engine(args).job(load_study("smoke", "synthetic"), config, 2)
    assert from_pytest == dataclasses.replace(from_cli, progress=from_pytest.progress)
    assert from_pytest.cache_dir == "shared" and from_pytest.force
    default = build_parser().parse_args(["run", "smoke", "--out", "res"])
    assert _engine(default).cache_dir == Path("res") / "cache"


def test_two_studies_in_one_session_then_a_rerun_from_the_cache(pytester):
    """For real: the smoke study and a study file on it with another learning rate share
    every strategy name. One session of both (their second-smallest configuration each, the
    smallest whose smoke F1 is not 0) gives two
    tables with different figures and two cache entries; a second session of the smoke
    study alone trains nothing, and its results.json keeps the other study's record."""
    copy_benchmarks(pytester)
    shutil.copytree(BENCHMARKS / "expected", pytester.path / "expected")
    (pytester.path / "slow.toml").write_text('base = "smoke"\n[recipe]\nlearning_rate = 1e-3\n')
    smallest = f"fr:{SMOKE_SIZES[1]}"
    first = run(pytester, "--xner-study", "smoke", "--xner-study", "slow.toml", "-k", smallest)
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()[-3000:]
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["trained 2 configuration(s), 0 from cache*"])
    out = pytester.path / "out"
    records = load_json(out / "results.json")["results"]
    f1 = {r["study"]: r["f1"] for r in records}
    assert sorted(f1) == ["slow", "smoke"] and f1["slow"] != f1["smoke"]
    tables = (out / "tables.md").read_text(encoding="utf-8")
    slow_part, smoke_part = tables.split("\n## slow", 1)[1].split("\n## smoke")
    assert f"{f1['slow']:.4f}" in slow_part and f"{f1['smoke']:.4f}" in smoke_part
    assert f"{f1['smoke']:.4f}" not in slow_part
    entries = sorted(p.name.split("-few-shot-")[0] for p in (out / "cache").glob("*.json"))
    assert entries == ["slow", "smoke"]

    again = run(pytester, "--xner-study", "smoke", "-k", smallest)
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()[-3000:]
    again.stdout.fnmatch_lines(["trained 0 configuration(s), 1 from cache*"])
    kept = {r["study"]: r["f1"] for r in load_json(out / "results.json")["results"]}
    assert kept == f1, "the smoke figure from the cache, the slow study's record kept"
