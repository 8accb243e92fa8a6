"""The example study file of docs/studies.md and the transfer matrix, run as a user runs them:
`xner run FILE`, `pytest benchmarks --xner-study FILE` (the real benchmark module) and `xner
matrix`, on synthetic data and, where the project's shared checkout has it, on real PAN-X."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xner.data.panx import write_synthetic_xtreme

ROOT = Path(__file__).resolve().parents[1]
PANX = ROOT.parent / "shared" / "data" / "panx"  # real PAN-X, only in the shared checkout
ENV = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def readme_example() -> str:
    """The study file docs/studies.md shows, verbatim."""
    text = (ROOT / "docs" / "studies.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n# en_to_it.toml\n(.+?)```", text, flags=re.S)
    return example


@pytest.fixture
def study_file(tmp_path):
    path = tmp_path / "en_to_it.toml"
    path.write_text(readme_example(), encoding="utf-8")
    return path


def run(*args, cwd):
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=ENV, timeout=900)


def xner(*args, cwd):
    return run(sys.executable, "-m", "xner.cli", *args, cwd=cwd)


def cells(out: Path) -> dict:
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {(r["strategy"], r["config"], r["eval_lang"]): r for r in saved["results"]}


EXAMPLE_CELLS = {
    ("zero-shot", "en", "de"), ("zero-shot", "en", "fr"), ("zero-shot", "en", "it"),
    ("few-shot", "it:50", "it"), ("few-shot", "it:100", "it"), ("few-shot", "it:200", "it"),
}  # fmt: skip


def check_example_run(out: Path, said: str) -> None:
    """The example study's six cells, its crossover in words and its plot, all trained."""
    found = cells(out)
    assert set(found) == EXAMPLE_CELLS
    assert {r["size"] for r in found.values()} == {None, 50, 100, 200}
    assert {r["study"] for r in found.values()} == {"en_to_it"}
    assert all(r["reference"] == "zero-shot" for k, r in found.items() if k[0] == "few-shot")
    tables = (out / "tables.md").read_text(encoding="utf-8")
    assert "few-shot it" in tables and "zero-shot en→it" in tables, "the crossover, in words"
    assert (out / "few_shot.png").stat().st_size > 0
    assert "trained 4 configuration(s)" in said


def test_the_readme_study_runs_through_xner_run_on_real_panx(study_file, tmp_path):
    if not PANX.is_dir():
        pytest.skip(f"no real PAN-X at {PANX} (only in the project's shared checkout)")
    done = xner("run", str(study_file), "--no-progress", "--out", "out", "--data", str(PANX),
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    check_example_run(tmp_path / "out", done.stdout)


def test_the_readme_study_runs_through_xner_run_then_the_real_benchmark_module(
    study_file, tmp_path
):
    """`xner run` trains the study; the benchmark module, on the same cache (as the docs say
    both fronts share one), trains nothing and reports the same figures."""
    done = xner("run", str(study_file), "--no-progress", "--out", "cli", "--cache", "cache",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    check_example_run(tmp_path / "cli", done.stdout)

    pytest_run = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_transfer.py"),
                  "--xner-study", str(study_file), "--xner-results", str(tmp_path / "out"),
                  "--xner-cache", str(tmp_path / "cache"), "-p", "no:cacheprovider", "-q",
                  "-rA"]  # fmt: skip
    done = run(*pytest_run, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "6 passed" in done.stdout
    assert "trained 0 configuration(s), 4 from cache" in done.stdout
    for case in ("test_zero_shot[en_to_it-en->fr]", "test_few_shot[en_to_it-it:100->it]"):
        assert case in done.stdout
    by_cli, by_pytest = cells(tmp_path / "cli"), cells(tmp_path / "out")
    assert set(by_pytest) == EXAMPLE_CELLS
    assert {k: r["f1"] for k, r in by_pytest.items()} == {k: r["f1"] for k, r in by_cli.items()}

    # No expected figures: measured only, unless asked for; then each case says what is missing.
    required = run(*pytest_run, "--xner-require-expected", "-k", "zero_shot", cwd=tmp_path)
    assert required.returncode == 1
    assert "no expected figures for study 'en_to_it'" in required.stdout
    assert "en_to_it.expected.toml" in required.stdout

    # Expected figures beside the file are checked: a figure far off fails its case.
    measured = cells(tmp_path / "out")[("zero-shot", "en", "fr")]["f1"]
    (tmp_path / "en_to_it.expected.toml").write_text(
        "[zero-shot]\nversion = 1\ntolerance = 0.001\n[zero-shot.cells]\n"
        f'"en->fr" = {measured + 0.5:.6f}\n"en->de" = 0.0\n"en->it" = 0.0\n',
        encoding="utf-8",
    )
    checked = run(*pytest_run, "-k", "zero_shot", cwd=tmp_path)
    assert checked.returncode == 1
    assert "1 failed, 2 passed" in checked.stdout, checked.stdout[-2000:]
    assert f"F1 {measured:.4f} is below the expected" in checked.stdout


def test_a_strategy_no_test_function_names_still_gets_cases(tmp_path):
    data = write_synthetic_xtreme(tmp_path / "panx", sizes={"train": 200, "validation": 40,
                                                          "test": 40})  # fmt: skip
    study = tmp_path / "two.toml"
    study.write_text('base = "smoke"\n[strategies.matrix]\ntrain = ["de", "fr"]\n'
                     'eval = ["it", "en"]\n', encoding="utf-8")  # fmt: skip
    done = run(sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_transfer.py"),
               "--xner-study", str(study), "--xner-data", str(data), "--xner-results",
               str(tmp_path / "out"), "-p", "no:cacheprovider", "-q", "-rA",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 passed" in done.stdout
    assert "test_strategy[two-matrix-fr->en]" in done.stdout


def test_a_bad_study_file_stops_pytest_and_xner_before_training(tmp_path):
    study = tmp_path / "bad.toml"
    study.write_text('base = "smoke"\n[strategies.x]\ntrain = ["de"]\neval = ["de", "zz"]\n',
                     encoding="utf-8")  # fmt: skip
    done = run(sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_transfer.py"),
               "--xner-study", str(study), "-p", "no:cacheprovider", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 4, "a usage error"
    assert f"--xner-study: {study}: strategies.x.eval: unknown language 'zz'" in done.stderr
    cli = xner("run", str(study), "--out", "out", cwd=tmp_path)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    assert cli.stderr.strip() == (
        f"xner: error: {study}: strategies.x.eval: unknown language 'zz' for 'synthetic' data; "
        "it has: de, fr, it, en"
    )
    unknown = xner("run", "smoke", "--strategy", "one-shot", "--out", "out", cwd=tmp_path)
    assert unknown.returncode == 2 and "no strategy 'one-shot'" in unknown.stderr
    assert not (tmp_path / "out" / "cache").exists() or not any(
        (tmp_path / "out" / "cache").iterdir()
    )


def test_xner_matrix_gives_a_4x4_matrix_and_heatmap(tmp_path):
    data = write_synthetic_xtreme(tmp_path / "panx", sizes={"train": 300, "validation": 60,
                                                          "test": 60})  # fmt: skip
    done = xner("matrix", "--train", "de,fr,it,en", "--eval", "all", "--study", "smoke",
                "--data", str(data), "--out", "out", "--no-progress", "--jobs", "2",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = cells(tmp_path / "out")
    assert {(k[1], k[2]) for k in found} == {(a, b) for a in "de fr it en".split()
                                             for b in "de fr it en".split()}  # fmt: skip
    tables = (tmp_path / "out" / "tables.md").read_text(encoding="utf-8")
    header = next(line for line in tables.splitlines() if line.startswith("| fine-tuned on"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "fine-tuned on", "de", "fr", "it", "en", "mean"
    ]  # fmt: skip
    de_row = next(line for line in tables.splitlines() if line.startswith("| de "))
    values = [float(c.split("[")[0]) for c in de_row.strip("|").split("|")[1:]]  # F1 [interval]
    assert values[-1] == pytest.approx(sum(values[:-1]) / 4, abs=1e-4)
    assert (tmp_path / "out" / "transfer.png").stat().st_size > 0
    again = xner("run", str(tmp_path / "out" / "matrix.toml"), "--data", str(data), "--out",
                 "out", "--no-progress", cwd=tmp_path)  # fmt: skip
    assert "trained 0 configuration(s), 4 from cache" in again.stdout, "the file reruns it"


def test_data_that_suits_one_built_in_study_does_not_stop_the_other(tmp_path):
    """--xner-data synthetic cannot serve the report's few-shot sizes (1,000 > 916 French
    sentences), but under -m smoke no report case runs: the smoke cases are collected."""
    done = run(sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_transfer.py"),
               "-m", "smoke", "--xner-data", "synthetic", "--co", "-q", "-p", "no:cacheprovider",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "17/37 tests collected" in done.stdout  # of report, smoke and conll_smoke
