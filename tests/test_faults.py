"""Bad input and faults through the real commands: one line naming the file, key or flag and
the value, before anything trains or is written, and nothing half-done left behind."""

import os
import subprocess
import sys
import time

import pytest

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
    (("fr = 0.05\n", ""),
     "fractions: no fraction for 'fr', which the study uses; give every one of de, fr a "
     "fraction in (0, 1] (1 keeps a split whole)"),
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
    ((RUNTIME, '[runtime]\nprecision = "fp8"\n'),
     "runtime.precision: unknown precision 'fp8'; choose one of auto, fp32, bf16, fp16"),
    ((RUNTIME, "[runtime]\neval_batch_size = 0\n"),
     "runtime.eval_batch_size: a whole number of at least 1, got 0"),
    ((RUNTIME, "[runtime]\nloader_workers = -1\n"),
     "runtime.loader_workers: a whole number of at least 0, got -1"),
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
