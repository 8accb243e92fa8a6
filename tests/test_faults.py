"""Bad input and faults through the real commands: one line naming the file, key or flag and
the value, before anything trains or is written, and nothing half-done left behind."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import make_result

STUDY = """\
model = "tiny"
data = "synthetic"

[fractions]
de = 0.05
fr = 0.05

[recipe]
learning_rate = 3e-3
epochs = 1

[strategies.zero-shot]
train = ["de"]
eval = ["de", "fr"]
"""

ENV = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def xner(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "xner.cli", *args],
        capture_output=True, text=True, cwd=cwd, env=ENV, timeout=300,
    )  # fmt: skip


def pytest_run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=cwd, env=ENV, timeout=300,
    )  # fmt: skip


def one_line(stderr: str) -> str:
    """The error line; fails unless stderr is exactly one line and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def study_file(tmp_path, old="", new=""):
    assert old in STUDY
    path = tmp_path / "study.toml"
    path.write_text(STUDY.replace(old, new) if old else STUDY + new, encoding="utf-8")
    return path


EPOCHS = "epochs = 1"
RUNTIME = ""  # appended: a [runtime] table after the strategies
BAD_STUDIES = [
    ((EPOCHS, "epochs = 0"), "recipe.epochs: a whole number of at least 1, got 0"),
    ((EPOCHS, "epochs = 1.5"), "recipe.epochs: must be like 3, got 1.5"),
    (("3e-3", "-1"), "recipe.learning_rate: a positive number, got -1"),
    (("3e-3", "nan"), "recipe.learning_rate: a positive number, got nan"),
    ((EPOCHS, EPOCHS + "\nbatch_size = 0"),
     "recipe.batch_size: a whole number of at least 1, got 0"),
    ((EPOCHS, EPOCHS + "\nweight_decay = -0.1"), "recipe.weight_decay: 0 or more, got -0.1"),
    ((EPOCHS, EPOCHS + '\nmetric_mode = "lenient"'),
     "recipe.metric_mode: one of 'default', 'strict', got 'lenient'"),
    ((RUNTIME, "[runtime]\nthreads = 0\n"),
     "runtime.threads: a whole number of at least 1, got 0"),
    ((RUNTIME, '[runtime]\ndtype = "fp8"\n'),
     "runtime.dtype: unknown dtype 'fp8'; choose one of auto, fp32, bf16, fp16"),
    ((RUNTIME, '[runtime]\nprecision = "bf16"\n'),
     "runtime.precision: renamed to runtime.dtype (same values)"),
    ((RUNTIME, "[runtime]\neval_batch_size = 0\n"),
     "runtime.eval_batch_size: a whole number of at least 1, got 0"),
    ((RUNTIME, "[runtime]\nloader_workers = -1\n"),
     "runtime.loader_workers: a whole number of at least 0, got -1"),
    (('train = ["de"]', 'train = ["de+de"]'),
     "strategies.zero-shot.train: each language once, got de more than once"),
    (('train = ["de"]', 'train = ["de+fr", "de+fr"]'),
     "strategies.zero-shot.train: each training set once, got de+fr more than once"),
    (('eval = ["de", "fr"]', 'eval = ["de", "fr", "de"]'),
     "strategies.zero-shot.eval: each language once, got de more than once"),
    (('model = "tiny"', 'model = "tiny"\nfew_shot_sizes = [50, 50]'),
     "few_shot_sizes: each size once, got 50 more than once"),
    (("de = 0.05", "de = 0.0001"),
     "fractions.de: 0.0001 keeps no sentence of the train, validation, test splits of "
     "'synthetic' data; at least 0.0005"),
    (('eval = ["de", "fr"]', 'eval = ["de", "fr"]\nfew_shot = "yes"'),
     "strategies.zero-shot.few_shot: true or false, got 'yes'"),
    (('eval = ["de", "fr"]', 'eval = ["de", "fr"]\nsizes = []'),
     "strategies.zero-shot.sizes: at least one size (or leave `sizes` out: the whole split)"),
    (('model = "tiny"', 'model = "tiny"\nversion = 0'),
     "version: a whole number of at least 1, got 0"),
    (('model = "tiny"', 'model = "tiny"\nmark = "my mark"'),
     "mark: a pytest marker name (letters, digits, _), got 'my mark'"),
]  # fmt: skip


@pytest.mark.parametrize("edit, problem", BAD_STUDIES)
def test_a_bad_study_file_is_one_line_from_xner_run_before_anything(tmp_path, edit, problem):
    path = study_file(tmp_path, *edit)
    start = time.monotonic()
    out = xner("run", str(path), "--out", "out", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert one_line(out.stderr) == f"xner: error: {path}: {problem}"
    assert out.stdout == ""
    assert not (tmp_path / "out").exists()  # nothing trained, nothing written
    assert time.monotonic() - start < 5  # refused at load, not after a training


@pytest.mark.parametrize("edit, problem", [BAD_STUDIES[0], BAD_STUDIES[8], BAD_STUDIES[9]])
def test_a_bad_study_file_is_a_usage_error_under_pytest(tmp_path, edit, problem):
    path = study_file(tmp_path, *edit)
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    out = pytest_run("--xner-study", str(path), "--xner-results", "out", cwd=tmp_path)
    assert out.returncode == 4, out.stdout + out.stderr
    assert "INTERNALERROR" not in out.stdout + out.stderr
    assert one_line(out.stderr) == f"ERROR: --xner-study: {path}: {problem}"
    assert not (tmp_path / "out").exists()


BAD_FLAGS = [
    (("run", "smoke", "--seeds", "-1"),
     "xner run: error: argument --seeds: a seed is a whole number from 0 to 4294967295, got -1"),
    (("run", "smoke", "--seeds", str(2**32)),
     "xner run: error: argument --seeds: a seed is a whole number from 0 to 4294967295, "
     "got 4294967296"),
    (("run", "smoke", "--seeds", "1,1"),
     "xner run: error: argument --seeds: each seed once, got 1 more than once"),
    (("run", "smoke", "--bootstrap", "-5"),
     "xner run: error: argument --bootstrap: a whole number of at least 0, got '-5'"),
    (("run", "smoke", "--jobs", "0"),
     "xner run: error: argument --jobs: a whole number of at least 1, got '0'"),
    (("run", "smoke", "--shard", "3/2"),
     "xner run: error: argument --shard: shard '3/2': I must be between 1 and N"),
    (("matrix", "--train", "de", "--shard", "two"),
     "xner matrix: error: argument --shard: a shard is I/N, for example 2/3; got 'two'"),
    (("compare", "a.json", "b.json", "--bootstrap", "0"),
     "xner compare: error: argument --bootstrap: a whole number of at least 1, got '0'"),
    (("expected", "run.json", "--tolerance", "-1"),
     "xner expected: error: argument --tolerance: a number, 0 or more, got '-1'"),
    (("expected", "run.json", "--match", "transformers"),
     "xner expected: error: argument --match: PACKAGE=PREFIX, e.g. transformers=4.46, "
     "got 'transformers'"),
]  # fmt: skip


@pytest.mark.parametrize("args, line", BAD_FLAGS, ids=lambda x: "-".join(x)[:40])
def test_a_bad_flag_is_one_line_before_torch_loads(tmp_path, args, line):
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "xner.cli", *args, "--out", "out"][
            : None if args[0] in ("run", "matrix") else -2
        ],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - start < 2
    assert out.returncode == 2 and out.stdout == ""
    imports = [x for x in out.stderr.splitlines() if x.startswith("import time:")]
    assert imports, "python -X importtime lists the imports"
    assert not [x for x in imports if x.split("|")[-1].strip() == "torch"], "torch was imported"
    errors = [x for x in out.stderr.splitlines() if not x.startswith("import time:")]
    assert errors == [f"{line} (see `xner {args[0]} --help`)"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "option, line",
    [
        ("--xner-seeds=-1", "--xner-seeds: a seed is a whole number from 0 to 4294967295, got -1"),
        ("--xner-seeds=0,1,0", "--xner-seeds: each seed once, got 0 more than once"),
        ("--xner-compare-fail=-1", "--xner-compare-fail: a number, 0 or more, got '-1'"),
        ("--xner-compare-fail=x", "--xner-compare-fail: a number, 0 or more, got 'x'"),
        ("--xner-bootstrap=-5", "--xner-bootstrap: a whole number of at least 0, got '-5'"),
        ("--xner-shard=3/2", "--xner-shard: shard '3/2': I must be between 1 and N"),
    ],
)
def test_a_bad_plugin_option_is_a_usage_error_before_any_case(tmp_path, option, line):
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    start = time.monotonic()
    out = pytest_run(option, "--xner-results", "out", cwd=tmp_path)
    assert time.monotonic() - start < 5
    assert out.returncode == 4, out.stdout + out.stderr
    assert one_line(out.stderr) == f"ERROR: {line}"
    assert "passed" not in out.stdout
    assert not (tmp_path / "out").exists()


# Saved runs -------------------------------------------------------------------------------


def saved_run(tmp_path, edit=None, name="run.json"):
    """A results.json of two cells with intervals and sentence counts, as xner writes it;
    `edit(payload)` spoils it."""
    import numpy as np

    from xner.results.intervals import bootstrap, encode_counts

    records = []
    for lang, tp in (("de", 6), ("fr", 3)):
        counts = np.zeros((10, 3, 3), dtype=np.int64)
        counts[:, 0, 0], counts[:, 0, 1], counts[:, 0, 2] = tp // 3, 1, 1
        records.append(
            make_result(
                eval_lang=lang, interval=bootstrap(counts, 50).to_dict(),
                sentence_counts=encode_counts(counts),
            ).to_dict()
        )  # fmt: skip
    payload = {"schema": 2, "run": {"versions": {"xner": "0.1.0"}}, "results": records}
    if edit is not None:
        edit(payload)
    path = tmp_path / name
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def set_field(key, value, index=1):
    def edit(payload):
        payload["results"][index][key] = value

    return edit


BAD_RUNS = [
    (set_field("f1", "0.5"), "results[1].f1: must be a number, got the string '0.5'"),
    (set_field("sentence_counts", "3,4;AAAA"),
     "results[1].sentence_counts: sentence counts that xner did not write: "),
    (set_field("interval", {"micro": {"low": 0.1}}),
     "results[1].interval.micro.estimate: must be a number, got null"),
    (set_field("per_type", {"PER": None}),
     "results[1].per_type['PER']: must be a number, got null"),
    (set_field("seed", True, 0), "results[0].seed: must be a whole number, got true"),
    (set_field("colour", "red", 0), "results[0]: result record has unknown fields ['colour']"),
    (lambda p: p["results"][0].pop("eval_lang"), "results[0]: no field 'eval_lang'"),
    (lambda p: p.update(run="x"), "run: must be an object, got the string 'x'"),
    (lambda p: p["run"].update(recipes=[]), "run.recipes: must be an object, got a list"),
    (lambda p: p.update(results=[]),
     "results: a non-empty list of result records, got an empty list"),
    (lambda p: p.update(results=["x"]),
     "results[0]: must be an object (a result record), got the string 'x'"),
    (lambda p: p.update(expected=[{"strategy": "zero-shot"}]),
     "expected[0].config: must be a string, got null"),
]  # fmt: skip


@pytest.mark.parametrize(
    "command, edit, problem",
    [("report", *bad) for bad in BAD_RUNS]
    + [(command, *BAD_RUNS[0]) for command in ("merge", "tolerances", "expected", "compare")]
    + [(command, *BAD_RUNS[1]) for command in ("merge", "compare")],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_a_bad_saved_run_is_one_line_naming_record_and_field(tmp_path, command, edit, problem):
    bad = saved_run(tmp_path, edit, "bad.json")
    good = saved_run(tmp_path)
    out = tmp_path / "out"
    args = {
        "report": ["report", str(bad), "--out", str(out)],
        "merge": ["merge", str(good), str(bad), "--out", str(out)],
        "tolerances": ["tolerances", str(bad)],
        "expected": ["expected", str(bad)],
        "compare": ["compare", str(good), str(bad)],
    }[command]
    ran = xner(*args, cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert one_line(ran.stderr).startswith(f"xner: error: {bad}: {problem}")
    assert ran.stdout == ""
    assert not out.exists()


def test_a_bad_saved_run_leaves_the_folder_it_would_rewrite_as_it_was(tmp_path):
    good, bad = saved_run(tmp_path), saved_run(tmp_path, set_field("f1", "0.5"), "bad.json")
    out = tmp_path / "out"
    assert xner("report", str(good), "--out", str(out), cwd=tmp_path).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"results.json", "results.csv", "tables.md"} <= set(before)
    ran = xner("report", str(bad), "--out", str(out), cwd=tmp_path)
    assert ran.returncode == 2
    assert one_line(ran.stderr).startswith(f"xner: error: {bad}: results[1].f1: ")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_missing_saved_run_is_named(tmp_path):
    good = saved_run(tmp_path)
    ran = xner("compare", str(good), "missing.json", cwd=tmp_path)
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        "xner: error: missing.json: no such file (a results.json written by xner)"
    )


@pytest.mark.parametrize(
    "args, line",
    [
        (("--train", "de,zz"), "--train: unknown language 'zz' for 'synthetic' data; it has: "
         "de, fr, it, en"),
        (("--train", "de", "--eval", "fr,xx"), "--eval: unknown language 'xx' for 'synthetic' "
         "data; it has: de, fr, it, en"),
        (("--train", "de,de"), "--train: each language once, got de twice"),
        (("--train", "de,"), "--train: comma-separated language codes, e.g. de,fr"),
        (("--train", "de", "--study", "nowhere.toml"), "--study: no study 'nowhere.toml': not a "
         "file, and the built-in studies are conll_smoke, report, smoke"),
    ],
)  # fmt: skip
def test_matrix_languages_are_checked_before_its_file_is_written(tmp_path, args, line):
    if "--study" not in args:
        args = (*args, "--study", "smoke")
    ran = xner("matrix", *args, "--out", "out", cwd=tmp_path)
    assert ran.returncode == 2
    assert one_line(ran.stderr) == f"xner: error: {line}"
    assert not (tmp_path / "out").exists(), "no matrix.toml left behind"


def test_matrix_beyond_the_studys_fractions_is_not_refused():
    # A language outside the report's fractions keeps its splits whole (xner.data.sampling).
    from xner.spec.study import check_matrix

    check_matrix("report", ["hi"], ["de", "hi"])


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "args, runs_perf",
    [
        ((), False),
        (("--xner-study", "smoke"), False),
        (("-m", "smoke"), False),
        (("-m", "not perf"), False),
        (("-m", "perf"), True),
        (("-m", "smoke or perf"), True),
    ],
)
def test_speed_benchmarks_run_only_when_asked_for(tmp_path, args, runs_perf):
    """Collected in-process with a probe that reads, after every other hook, which speed
    benchmarks pytest would run and which it skips (nothing runs)."""
    speed = BENCHMARKS / "perf" / "test_speed.py"
    argv = [str(speed), *args, "-p", "no:cacheprovider", "--xner-results", str(tmp_path / "r")]
    probed = subprocess.run(
        [sys.executable, "-c", SKIPPED, *argv],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120,
    )  # fmt: skip
    assert probed.returncode == 0, probed.stdout + probed.stderr
    marks = json.loads(probed.stdout.splitlines()[-1])
    if args == ("-m", "not perf") or args == ("-m", "smoke"):
        assert marks == {}, "deselected by -m itself"
    elif runs_perf:
        assert marks and set(marks.values()) == {"run"}, marks
    else:
        assert marks and set(marks.values()) == {"skip"}, marks


# In-process collection: which perf items pytest would run or skip (nothing runs).
SKIPPED = """
import json, sys
import pytest

class Probe:
    marks = {}
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            skip = item.get_closest_marker("skip") or item.get_closest_marker("skipif")
            self.marks[item.nodeid] = "skip" if skip else "run"

probe = Probe()
pytest.main([*sys.argv[1:], "--collect-only", "-q"], plugins=[probe])
print(json.dumps(probe.marks))
"""


# What the docs say and the program does --------------------------------------------------


def test_help_and_version_say_what_each_command_is(tmp_path):
    from importlib.metadata import version

    ran = xner("--version", cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout == f"xner {version('xner')}\n"
    ran = xner("report", "--help", cwd=tmp_path)
    assert ran.stdout.startswith("usage: xner report ")
    ran = xner("--help", cwd=tmp_path)
    commands = "run matrix compare tolerances merge report expected slurm".split()
    for command in commands:
        assert f"\n    {command} " in ran.stdout, command
    assert "--no-progress" in (Path(__file__).parents[1] / "docs" / "benchmarks.md").read_text()


def test_a_run_outside_a_git_checkout_records_xners_version_as_its_commit(tmp_path):
    from importlib.metadata import version

    ran = subprocess.run(
        [sys.executable, "-c",
         "from xner.results.records import run_facts; print(run_facts()['commit'])"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env=ENV | {"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
    )  # fmt: skip
    assert ran.stdout.strip() == f"xner {version('xner')}", ran.stderr


# Faults while running -----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Live (not zombie) child processes of `pid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


LONG = """\
base = "smoke"
[recipe]
epochs = 200
[strategies.zero-shot]
train = ["de"]
eval = ["de"]
"""


def start_with_its_worker(tmp_path, command, wait_s=60):
    """`command` (in its own session) of the long study, once its training worker has
    started: (the process, its workers' pids)."""
    (tmp_path / "long.toml").write_text(LONG, encoding="utf-8")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=ENV, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + wait_s
    while not (workers := children(process.pid)) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    assert workers, "no training worker started"
    time.sleep(2)  # the worker is loading torch, or training
    return process, workers


def start_run_and_its_worker(tmp_path, *args):
    """`xner run` of a training that takes minutes, once its worker has started."""
    return start_with_its_worker(
        tmp_path,
        [sys.executable, "-m", "xner.cli", "run", "long.toml", "--out", "out", "--no-progress",
         *args],
    )  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_whose_parent_is_killed_stops_at_once(tmp_path):
    run, workers = start_run_and_its_worker(tmp_path)
    os.kill(run.pid, 9)
    run.communicate(timeout=30)
    time.sleep(5)
    assert not [pid for pid in workers if alive(pid)], "the worker trains on for nobody"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(
    "signum, code, how, cache",
    [(15, 143, "SIGTERM", ()), (2, 130, "Ctrl-C", ("--cache", "shared/"))],
)
def test_sigterm_and_ctrl_c_end_the_workers_with_one_line(tmp_path, signum, code, how, cache):
    run, workers = start_run_and_its_worker(tmp_path, *cache)
    os.killpg(run.pid, signum) if signum == 2 else os.kill(run.pid, signum)  # Ctrl-C: the group
    out, err = run.communicate(timeout=60)
    assert run.returncode == code, err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (
        f"xner: stopped by {how}; the configurations that finished are cached in "
        f"{'shared' if cache else 'out/cache'}/: the same command trains only what is missing"
    )
    assert not [pid for pid in workers if alive(pid)]
    from xner.reporting.output import FolderLock

    with FolderLock(tmp_path / "out"):  # raises while another process holds the folder
        pass


def test_a_shard_that_holds_no_configuration_is_refused_before_training(tmp_path):
    ran = xner("run", "smoke", "--shard", "20/20", "--out", "out", cwd=tmp_path)
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        "xner: error: --shard 20/20: no training configuration falls in this shard (smoke "
        "has 8); use at most 8 shards"
    )
    assert not (tmp_path / "out").exists(), "no empty results.json that merge would refuse"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_of_a_pytest_session_ends_its_training_worker_at_once(tmp_path):
    session, workers = start_with_its_worker(
        tmp_path,
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         str(BENCHMARKS / "test_transfer.py"), "--xner-study", "long.toml",
         "--xner-results", "out"],
        wait_s=120,
    )  # fmt: skip
    start = time.monotonic()
    os.killpg(session.pid, 2)  # Ctrl-C reaches the whole foreground group
    out, err = session.communicate(timeout=60)
    assert time.monotonic() - start < 15, "the session waited for the training to end"
    assert session.returncode == 2, out + err  # pytest's "interrupted"
    assert "Traceback" not in err, err  # the worker ignores Ctrl-C: its parent ends it
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize(
    "figures, problem",
    [
        ("[zero-shot]\nversion = 3\ntolerance = -1\n[zero-shot.cells]\n\"de->de\" = 0.5\n",
         "zero-shot.tolerance: a number from 0 to 1, got -1"),
        ("[zero-shot]\nversion = 3\n[zero-shot.cells]\n\"de->de\" = \"0.5\"\n",
         "zero-shot.cells.\"de->de\": an F1 from 0 to 1, got '0.5'"),
        ("[zero-shot]\n[zero-shot.cells]\n\"de->de\" = 0.5\n",
         "zero-shot.version: a whole number of at least 1, got None"),
        ("[zero-shot]\nversion = 1\n[zero-shot.cells]\n\"de->de\" = 0.5\n",
         "figures of 'zero-shot' are for version 1, the code is version 3: re-measure them"),
    ],
)  # fmt: skip
def test_a_bad_expected_file_fails_each_case_in_one_line_before_it_trains(
    tmp_path, figures, problem
):
    (tmp_path / "long.toml").write_text(LONG, encoding="utf-8")
    (tmp_path / "long.expected.toml").write_text(figures, encoding="utf-8")
    start = time.monotonic()
    ran = pytest_run(
        str(BENCHMARKS / "test_transfer.py"), "--xner-study", "long.toml", "--xner-results",
        "out", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert time.monotonic() - start < 60, "it trained (the study's training takes minutes)"
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert f"long-de->de: long.expected.toml: {problem}" in ran.stdout.replace(
        str(tmp_path) + "/", ""
    )
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 KB filesystem: the folder probe fits, a run's files do not."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root: " + mounted.stderr.decode()[-200:])
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_12_kb_out_keeps_the_training_and_names_the_file(tiny_disk, tmp_path):
    """The worker trains, its cache entry does not fit: one warning line, the figures go on to
    the run, which prints its tables and ends with one line naming results.json, no traceback
    and no temporary file left behind."""
    out = tiny_disk / "out"
    done = xner("run", "smoke", "--strategy", "zero-shot", "--out", str(out), "--no-progress",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if str(out) in line]
    assert len(lines) == 2, done.stderr[-2000:]
    cache_line, error = lines
    assert "cache" in cache_line and "No space left on device" in cache_line
    assert "is not cached, its figures go on to the run" in cache_line
    assert error.startswith(f"xner: error: {out / 'results.json'}: cannot write (No space left")
    assert "the figures above were not saved" in error
    assert "fine-tuned on" in done.stdout and "de->" not in done.stdout  # the zero-shot table
    left = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert left == [".xner.lock"], left  # no results file, no half-written temporary
