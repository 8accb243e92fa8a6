"""The pytest plugin (xner.pytest_plugin) end to end, through pytester projects.

Each project is a small benchmark suite written like benchmarks/test_transfer.py: its tests are
parametrised with `xner.bench.cases(...)` and use the `xner_bench` fixture. Training is
stubbed: the project's conftest replaces the `score` of the plugin's `XnerSession` with a fake
study's, which returns a `Result` from a table of F1 figures (fake.json), so what runs is the
plugin's own code: options, markers, recording, result files, tables, plots, comparison and
the transport of results from pytest-xdist workers. Offline, CPU only, no model trained.
"""

from __future__ import annotations

import csv
import json
import math
import re
import struct
from pathlib import Path

import pytest

from xner.profiles import PROFILES
from xner.scenarios import VERSION

pytest_plugins = ["pytester"]

# Few-shot sizes are the profiles' business (the smoke profile scales the report's down).
SMOKE_SIZES = PROFILES["smoke"].few_shot_sizes
REPORT_SIZES = PROFILES["report"].few_shot_sizes
FEW_SHOT_F1 = (0.40, 0.55, 0.65, 0.70, 0.75)  # by rank of n
FEW_SHOT_EXPECTED = (0.38, 0.55, 0.65, 0.70, 0.75)
assert len(SMOKE_SIZES) == len(FEW_SHOT_F1) == len(REPORT_SIZES)

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
}
SEED_STEP = 0.01

# Expected figures (tolerance 0.03, flag_above 0.1 for every strategy): every case passes.
EXPECTED = {
    "zero-shot": {"de->de": 0.75, "de->fr": 0.58, "de->it": 0.55, "de->en": 0.50},
    "few-shot": {f"fr:{n}->fr": f1 for n, f1 in zip(SMOKE_SIZES, FEW_SHOT_EXPECTED, strict=True)},
    "multilingual": {"de+fr->de": 0.84, "de+fr->fr": 0.83, "de+fr->it": 0.69, "de+fr->en": 0.64},
}


def case_ids(profile: str, sizes) -> list[str]:
    return [
        *(f"test_zero_shot[{profile}-de->{lang}]" for lang in ("de", "fr", "it", "en")),
        *(f"test_few_shot[{profile}-fr:{n}->fr]" for n in sizes),
        *(f"test_multilingual[{profile}-de+fr->{lang}]" for lang in ("de", "fr", "it", "en")),
    ]


SMOKE_IDS = case_ids("smoke", SMOKE_SIZES)
GPU_IDS = case_ids("report", REPORT_SIZES)
# The order cases run in: longest training first. By hand from the smoke profile's corpus
# (4,000 synthetic train rows per language before the report's fractions): de+fr trains on
# (0.629 + 0.229) x 4,000 = 3,432 rows, de on 2,516, few-shot on its n (800 down to 50).
SMOKE_RUN_ORDER = (
    [i for i in SMOKE_IDS if i.startswith("test_multilingual")]
    + [i for i in SMOKE_IDS if i.startswith("test_zero_shot")]
    + [f"test_few_shot[smoke-fr:{n}->fr]" for n in sorted(SMOKE_SIZES, reverse=True)]
)
OPTIONS = {
    "--xner-model",
    "--xner-data",
    "--xner-results",
    "--xner-seeds",
    "--xner-compare",
    "--xner-compare-fail",
    "--xner-precision",
    "--xner-compile",
    "--xner-shard",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

PROJECT_CONFTEST = '''
import json
import os
from pathlib import Path

import pytest

from xner.pytest_plugin import STATE
from xner.results import Result

HERE = Path(__file__).parent


class FakeStudy:
    """Scores a case from fake.json instead of training; `actions` interrupt or crash."""

    def __init__(self, profile):
        self.profile = profile

    def score(self, config, seed, lang):
        spec = json.loads((HERE / "fake.json").read_text())
        cell = f"{config.strategy} {config.label}->{lang}"
        action = spec["actions"].get(cell)
        if action == "interrupt":
            raise KeyboardInterrupt
        if action == "crash":
            os._exit(1)
        f1 = spec["f1"][cell] + spec["seed_step"] * seed
        return Result(
            strategy=config.strategy, train_langs=list(config.train_langs),
            train_size=config.size or 1000, eval_lang=lang, seed=seed, f1=f1,
            precision=f1 + 0.01, recall=f1 - 0.01,
            per_type={"PER": f1 + 0.02, "ORG": f1 - 0.02, "LOC": f1}, n_test=100,
            model="fake-model", data_source="fake-data", train_seconds=1.5, eval_seconds=0.25,
            versions={"xner": "fake"},
            device="fake:" + os.environ.get("PYTEST_XDIST_WORKER", "main"),
            config=config.label, profile=self.profile, strategy_version=config.version,
        )


@pytest.fixture(autouse=True)
def _fake_study(request):
    state = request.config.stash[STATE]
    state.score = lambda profile, config, seed, lang: FakeStudy(profile).score(config, seed, lang)
'''

PROJECT_TESTS = """
from pathlib import Path

import pytest

from xner.bench import cases, load_expected

EXPECTED = load_expected(Path(__file__).parent / "expected.toml")


def check(case, xner_bench):
    expectation = EXPECTED.for_case(case)
    result = xner_bench.run(case)
    xner_bench.check(case, result, expectation)


@pytest.mark.parametrize("case", cases("zero-shot"))
def test_zero_shot(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.parametrize("case", cases("few-shot"))
def test_few_shot(case, xner_bench):
    check(case, xner_bench)


@pytest.mark.parametrize("case", cases("multilingual"))
def test_multilingual(case, xner_bench):
    check(case, xner_bench)
"""


@pytest.fixture(scope="module", autouse=True)
def _heavy_modules_loaded_once():
    """Import what inner runs need before any pytester exists: pytester restores sys.modules
    after each in-process run, and torch cannot be imported twice in one process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import torch  # noqa: F401

    import xner.bench  # noqa: F401
    import xner.report  # noqa: F401
    import xner.study  # noqa: F401


def write_fake(pytester, f1=None, actions=None) -> None:
    spec = {"f1": F1 | (f1 or {}), "seed_step": SEED_STEP, "actions": actions or {}}
    (pytester.path / "fake.json").write_text(json.dumps(spec))


def write_expected(pytester, overrides=None) -> None:
    """expected.toml; `overrides` maps (strategy, key) to a figure."""
    overrides = overrides or {}
    lines = []
    for strategy, cells in EXPECTED.items():
        lines += [f"[{strategy}]", f"version = {VERSION}", "tolerance = 0.03", "flag_above = 0.1"]
        lines.append(f"[{strategy}.cells]")
        for key, f1 in cells.items():
            f1 = overrides.get((strategy, key), f1)
            lines.append(f'"{key}" = {{ f1 = {f1}, why = "why {strategy} {key}" }}')
    (pytester.path / "expected.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def project(pytester):
    """A benchmark project whose studies are fake and whose every case passes."""
    pytester.makeconftest(PROJECT_CONFTEST)
    pytester.makepyfile(test_xner_project=PROJECT_TESTS)
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
    """--xner-model, --xner-data and --xner-precision go into every training job."""
    pytester.makepyfile(
        """
        from xner.profiles import PROFILES
        from xner.pytest_plugin import STATE

        def test_study(request):
            state = request.config.stash[STATE]
            config = PROFILES["smoke"].strategies()["zero-shot"].configs()[0]
            job = state.job("smoke", config, 3)
            assert (job.model, job.data, job.profile, job.seed) == (
                "my-model", "my-data", "smoke", 3)
            assert job.runtime.precision == "bf16"
            assert job.runtime.threads == 1 and job.runtime.portable  # the smoke profile's
            assert state.job("report", config, 3).runtime.threads is None
            assert state.seeds == [3, 1]
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--xner-model=my-model", "--xner-data=my-data",
        "--xner-seeds=3,1", "--xner-precision=bf16",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--xner-seeds", "0,x"), "--xner-seeds wants comma-separated integers: '0,x'"),
        (("--xner-seeds", " , "), "--xner-seeds names no seed"),
        (("--xner-compare", "missing.json"), "--xner-compare: no file 'missing.json'"),
        (("--xner-compare", "schema2.json"), "schema2.json: results schema 2"),
    ],
    ids=["seeds-not-integers", "seeds-empty", "compare-missing", "compare-wrong-schema"],
)
def test_bad_option_values_stop_before_any_case(project, args, message):
    """A usage error names the bad value before anything trains; a --xner-compare file that
    cannot be read must not surface as an INTERNALERROR after the first case has trained."""
    (project.path / "schema2.json").write_text('{"schema": 2, "run": {}, "results": []}')
    result = run(project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    assert message in result.stderr.str()
    assert not (project.path / "out").exists()


# 2. markers -----------------------------------------------------------------------------------


def test_markers_select_profiles_and_gpu_skips_without_cuda(project):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only machine's behaviour")
    markers = project.runpytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.gpu: *CUDA*", "@pytest.mark.smoke: *CPU*"])

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

    bare = project.runpytest(*common)
    assert bare.ret == pytest.ExitCode.OK
    passed, skipped, failed = outcomes(bare)
    assert (passed, sorted(skipped), failed) == (SMOKE_RUN_ORDER, sorted(GPU_IDS), [])


# 3. tables and files --------------------------------------------------------------------------


def test_run_writes_results_tables_and_plots(project):
    result = run(project, "--xner-model=the-model", "--xner-data=synthetic")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    out = project.path / "out"

    saved = load_json(out / "results.json")
    assert saved["schema"] == 1
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
    assert (run_facts["seeds"], run_facts["model"], run_facts["data"]) == (
        [0],
        "the-model",
        "synthetic",
    )

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
    assert "Expected figures from expected.toml." in tables
    assert run_facts["device"] in tables.splitlines()[2]
    zero_shot = tables.split("### zero-shot", 1)[1].split("###", 1)[0]
    de_row = next(line for line in zero_shot.splitlines() if line.startswith("| de "))
    assert [c.strip() for c in de_row.strip("|").split("|")] == [
        "de",
        "0.8000 (exp 0.7500, +0.0500)",
        "0.6000 (exp 0.5800, +0.0200)",
        "0.5800 (exp 0.5500, +0.0300)",
        "0.5200 (exp 0.5000, +0.0200)",
    ]
    few_shot = tables.split("### few-shot", 1)[1].split("###", 1)[0]
    header = next(line for line in few_shot.splitlines() if line.startswith("| n "))
    assert [c.strip() for c in header.strip("|").split("|")] == ["n", *map(str, SMOKE_SIZES)]
    assert "| F1 (fr) " in few_shot and "0.5500 (exp 0.5500, +0.0000)" in few_shot
    assert "0.8400 (exp 0.8300, +0.0100)" in tables  # multilingual de+fr -> fr
    n0, n1 = SMOKE_SIZES[1], SMOKE_SIZES[2]  # 0.55 and 0.65 around zero-shot fr's 0.60
    crossover = (
        f"Few-shot fr passes zero-shot fr (0.6000) at about n = {math.sqrt(n0 * n1):.0f} "
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
         "out/transfer.png"]
    )  # fmt: skip


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
    [("multilingual", "de+fr", lang, 0) for lang in ("de", "fr", "it", "en")]
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
    assert not list(out.glob(".*")), "no temporary file left behind"


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
        (0.56, (), "zero-shot de->fr: F1 0.5600, was 0.6000 (-0.0400, allowed -0.0100)"),
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
    expected_ids = {
        f"{name}[seed{seed}-{params}" for seed in (0, 1)
        for name, params in (case.split("[", 1) for case in SMOKE_IDS)
    }  # fmt: skip
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
    # mean 0.805 and sample std 0.00707 of 0.80 and 0.81, beside the expected 0.75
    assert "0.8050 ± 0.0071 (exp 0.7500, +0.0550)" in tables
    assert "0.6050 ± 0.0071 (exp 0.5800, +0.0250)" in tables
    assert "0.8050 ± 0.0071" in result.stdout.str()


# 9. suspect results ---------------------------------------------------------------------------


def test_result_far_above_its_figure_passes_and_is_flagged(project):
    write_expected(project, {("zero-shot", "de->en"): 0.40})  # 0.52 > 0.40 + flag_above 0.1
    result = run(project)
    assert result.ret == pytest.ExitCode.OK
    assert outcomes(result) == (SMOKE_RUN_ORDER, [], [])
    suspects = [line for line in result.outlines if "SUSPECT" in line]
    assert suspects == [
        "SUSPECT test_xner_project.py::test_zero_shot[smoke-de->en]: F1 0.5200 is far above the "
        "expected 0.4000 (why zero-shot de->en)"
    ]
    assert "0.5200 (exp 0.4000, +0.1200)" in (project.path / "out" / "tables.md").read_text()


# 8. shards ------------------------------------------------------------------------------------


def test_shards_run_each_case_once_and_merge_into_the_full_tables(project):
    """--xner-shard I/N splits by training configuration; `xner merge` of the shards' results
    rebuilds the full run's tables exactly."""
    from xner.cli import main

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
    assert (merged / "few_shot.png").read_bytes()[:8] == PNG_MAGIC


def test_bad_shard_is_a_usage_error(project):
    result = run(project, "--xner-shard", "4/3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--xner-shard: shard '4/3': I must be between 1 and N" in result.stderr.str()
