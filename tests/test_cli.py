"""`xner run` as a user runs it: on an XTREME-layout folder, twice, with and without --force."""

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import make_result
from xner.data.panx import write_synthetic_xtreme


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    sizes = {"train": 200, "validation": 80, "test": 80}
    return write_synthetic_xtreme(tmp_path_factory.mktemp("panx"), sizes=sizes, raw=True)


def xner(*args, cwd):
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "xner.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_zero_shot_on_a_data_folder_then_cached_then_forced(data_dir, tmp_path):
    args = ("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir), "--no-progress")
    first = xner(*args, "--out", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "trained 1 configuration(s), 0 from cache" in first.stdout
    assert "fine-tuned on" in first.stdout and "de " in first.stdout
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["schema"] == 2
    assert [r["eval_lang"] for r in saved["results"]] == ["de", "fr", "it", "en"]
    assert {r["data_source"] for r in saved["results"]} == {str(data_dir)}
    assert (tmp_path / "out" / "tables.md").read_text().count("|") > 10

    second = xner(*args, "--out", "out", cwd=tmp_path)
    assert "trained 0 configuration(s), 1 from cache" in second.stdout
    again = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["f1"] for r in again["results"]] == [r["f1"] for r in saved["results"]]

    forced = xner(*args, "--out", "out", "--force", cwd=tmp_path)
    assert "trained 1 configuration(s), 0 from cache" in forced.stdout
    redone = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["f1"] for r in redone["results"]] == [r["f1"] for r in saved["results"]]


def test_bad_data_folder_is_one_line_not_a_traceback(tmp_path):
    # Every language of the study has its files (a missing one is refused first, in its own
    # line); German's training split holds the bad tag.
    for lang in ("de", "fr", "it", "en"):
        for split in ("train", "dev", "test"):
            (tmp_path / f"{split}-{lang}.tsv").write_text("a\tO\n", encoding="utf-8")
    (tmp_path / "train-de.tsv").write_text("Berlin\tB-LOC\nist\tX-TAG\n\n", encoding="utf-8")
    out = xner("run", "smoke", "--strategy", "zero-shot", "--data", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2
    assert "train-de.tsv:2: unknown tag 'X-TAG'" in out.stderr
    assert "Traceback" not in out.stderr


# When things go wrong: each fault with real processes and real files -----------------------


def test_unwritable_results_folder_fails_before_training(data_dir, tmp_path):
    """A path that cannot become a folder (a regular file stands in its way) binds root too,
    which a permission bit would not."""
    (tmp_path / "taken").write_text("a file, not a folder")
    out = xner("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir),
               "--out", "taken/out", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("xner: error: taken/out: cannot write results here")
    assert out.stderr.count("\n") == 1


def test_a_second_run_on_a_busy_folder_stops_at_once(data_dir, tmp_path):
    """Another process holds the folder (as a running `xner run` does): this one says so
    before training anything, and leaves the folder as it was."""
    (tmp_path / "out").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom xner.reporting.output import FolderLock\n"
         "with FolderLock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)",
         str(tmp_path / "out")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        out = xner("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir),
                   "--out", "out", cwd=tmp_path)  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"out: in use by another xner run (pid {holder.pid})" in out.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".xner.lock", "cache"]


def test_unknown_model_fails_before_training(data_dir, tmp_path):
    out = xner("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir),
               "--model", "./no-such-model", "--out", "out", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no-such-model" in out.stderr
    assert not (tmp_path / "out" / "cache").exists() or not any(
        (tmp_path / "out" / "cache").iterdir()
    )


def test_report_rebuilds_a_runs_files_byte_for_byte(data_dir, tmp_path):
    args = ("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir), "--no-progress")
    assert xner(*args, "--out", "out", cwd=tmp_path).returncode == 0
    rebuilt = xner("report", "out/results.json", "--out", "again", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    for name in ("results.json", "results.csv", "tables.md", "transfer.png"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_a_full_disk_is_one_line_and_leaves_no_stray_file(tmp_path):
    """A file-size limit (RLIMIT_FSIZE binds root) makes the plots fail as a full disk does:
    one line naming the file, no temporary left, the files already written intact."""
    script = (
        "import json, resource, sys\n"
        "from xner.reporting.output import write_run\n"
        "from xner.results.records import Result\n"
        "r = Result.from_dict(json.loads(sys.argv[2]))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (5_000, 5_000))\n"
        "try:\n"
        "    write_run(sys.argv[1], [r], {'versions': {}})\n"
        "except OSError as err:\n"
        "    print(err)\n"
    )
    record = json.dumps(make_result(eval_lang="de").to_dict())
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path), record],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"{tmp_path / 'transfer.png'}: cannot write (File too large)"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["results.csv", "results.json", "tables.md"], "no stray temporary file"
    assert json.loads((tmp_path / "results.json").read_text())["results"][0]["f1"] == 0.5


def _training_worker(pid: int) -> int | None:
    """The child of `pid` that runs `python -m xner.execution.jobs` (once it runs it: after its
    exec)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == pid and b"xner.execution.jobs" in argv:
            return int(stat.parent.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_a_disk_that_fills_during_training_loses_no_training(data_dir, tmp_path):
    """The whole `xner run`, whose disk fills while it trains. A file-size limit (RLIMIT_FSIZE
    binds root too) is put on the running `xner run` from outside (prlimit) once its training
    worker has started, as a disk filling meanwhile would: set before, it would bind the worker
    too, whose checkpoints (megabytes) outgrow any result file. The worker trains and caches;
    the run's own first file, results.json, is refused (EFBIG: SIGXFSZ is ignored, so the write
    fails rather than the process). The run ends with one line naming the file and leaves no
    temporary behind, and the training is not lost: the same command, once there is room,
    writes every file from the cache without training again."""
    args = ("run", "smoke", "--strategy", "zero-shot", "--data", str(data_dir), "--no-progress",
            "--out", "out")  # fmt: skip
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    run = subprocess.Popen(
        [sys.executable, "-m", "xner.cli", *args], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while _training_worker(run.pid) is None:
            assert run.poll() is None, run.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no training worker started"
            time.sleep(0.02)
        resource.prlimit(run.pid, resource.RLIMIT_FSIZE, (2_000, 2_000))
        stdout, stderr = run.communicate(timeout=600)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr and stderr.count("xner: error") == 1
    # The run's first file is the first cell's predictions (copied from the cache before
    # results.json names it).
    assert re.fullmatch(
        r"xner: error: out/predictions/smoke-zero-shot-de-seed0-[0-9a-f]{16}\.de\.conll: cannot "
        r"write \(File too large\); the figures above were not saved: free some space and run "
        r"the same command \(what was cached is not trained again\)",
        stderr.splitlines()[-1],
    ), stderr.splitlines()[-1]
    assert "fine-tuned on" in stdout, "the figures are shown though the folder refused them"
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) in (
        [".xner.lock", "cache"], [".xner.lock", "cache", "predictions"]
    )  # fmt: skip
    assert not any((out / "predictions").glob("*")), "no stray file"
    (entry,) = (out / "cache").glob("*.json")
    assert len(list((out / "cache").glob("*.conll"))) == 4, "the cache keeps the predictions"
    cached = json.loads(entry.read_text(encoding="utf-8"))["results"]
    assert [r["eval_lang"] for r in cached] == ["de", "fr", "it", "en"]

    again = xner(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "trained 0 configuration(s), 1 from cache" in again.stdout
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    assert saved == cached


def test_expected_prints_a_file_whose_environment_variant_is_chosen_by_version(tmp_path,
                                                                             capsys):  # fmt: skip
    """`xner expected` turns a run into expected figures; an [[environment]] variant it prints
    is used exactly where the installed version matches."""
    from xner.cli.main import main
    from xner.results.records import save_results
    from xner.spec.expected import load_expected

    def run(f1):
        r = make_result(f1, strategy_version=2)
        return save_results(tmp_path / f"{f1}.json", [r], {"versions": {}})

    assert main(["expected", str(run(0.25))]) == 0
    base = capsys.readouterr().out
    assert main(["expected", str(run(0.75)), "--match", "transformers=4.46"]) == 0
    (tmp_path / "expected.toml").write_text(base + capsys.readouterr().out)
    for installed, f1, variant in (("5.24.0", 0.25, ""), ("4.46.3", 0.75, "transformers 4.46"),
                                   ("4.4", 0.25, "")):  # fmt: skip
        expected = load_expected(tmp_path / "expected.toml", {"transformers": installed})
        cell = expected.cells[("zero-shot", "de->fr")]
        assert (cell.f1, cell.two_sided, cell.tolerance, expected.environment) == (
            f1, True, 0.002, variant
        )  # fmt: skip
        assert expected.versions == {"zero-shot": 2}
