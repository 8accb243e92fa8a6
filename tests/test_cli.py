"""`xner run` as a user runs it: on an XTREME-layout folder, twice, with and without --force."""

import json
import os
import subprocess
import sys

import pytest

from xner.synthetic import write_synthetic_xtreme


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
    args = ("run", "zero-shot", "--profile", "smoke", "--data", str(data_dir), "--no-progress")
    first = xner(*args, "--out", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "trained 1 configuration(s), 0 from cache" in first.stdout
    assert "fine-tuned on" in first.stdout and "de " in first.stdout
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["schema"] == 1
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
    (tmp_path / "train-de.tsv").write_text("Berlin\tB-LOC\nist\tX-TAG\n\n", encoding="utf-8")
    (tmp_path / "dev-de.tsv").write_text("a\tO\n", encoding="utf-8")
    (tmp_path / "test-de.tsv").write_text("a\tO\n", encoding="utf-8")
    out = xner("run", "zero-shot", "--profile", "smoke", "--data", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2
    assert "train-de.tsv:2: unknown tag 'X-TAG'" in out.stderr
    assert "Traceback" not in out.stderr
