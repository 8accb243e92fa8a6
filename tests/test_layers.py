"""The package's layers (pyproject.toml, [tool.importlinter]) as import-linter checks them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    env = os.environ | {"PYTHONPATH": str(cwd)}  # this tree's xner, not an installed copy
    return subprocess.run(
        [command, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_layer_imports_only_those_below_it():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path):
    """The contracts can fail: the study layer reaching up into execution is caught."""
    shutil.copytree(ROOT / "xner", tmp_path / "xner", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    study = tmp_path / "xner" / "spec" / "study.py"
    study.write_text(study.read_text() + "\nfrom xner.execution import runner  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "xner.spec.study -> xner.execution.runner" in done.stdout
