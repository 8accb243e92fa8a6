"""`xner check` (every check of a run before training, and the cases it would run: in seconds,
without torch, writing nothing) and `xner ls` (the built-in studies)."""

from __future__ import annotations

import subprocess
import sys
import time

from xner.spec.cases import case_id, study_cases
from xner.spec.study import built_in_studies, load_study


def xner(*args, cwd):
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "xner.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )  # fmt: skip


def imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_check_lists_every_case_without_torch_and_writes_nothing(tmp_path):
    start = time.monotonic()
    out = xner("check", "smoke", "--out", "out/deeper", "--seeds", "0,1", cwd=tmp_path)
    seconds = time.monotonic() - start
    assert out.returncode == 0, out.stderr[-2000:]
    assert not {"torch", "transformers"} & imported(out.stderr)
    assert list(tmp_path.iterdir()) == [], "nothing written, no folder made"
    smoke = load_study("smoke")
    expected = {
        case_id(case, several_seeds=True)
        for strategy in smoke.strategies
        for case in study_cases(smoke, strategy, (0, 1))
    }
    lines = out.stdout.splitlines()[:-1]
    listed = {
        name.strip() for line in lines if not line.startswith("finding ")
        for name in line.split(": ", 1)[1].split(",")
    }  # fmt: skip
    assert listed == expected and len(expected) == 34
    findings = [line.split(":")[0].removeprefix("finding ") for line in lines
                if line.startswith("finding ")]  # fmt: skip
    assert findings == [f.name for f in smoke.findings] and len(findings) == 6
    assert out.stdout.splitlines()[-1] == (
        "smoke: ok; 16 training(s), 34 case(s); 6 finding(s); model tiny, data synthetic"
    )
    first = out.stdout.splitlines()[0]
    assert first.startswith("full all seed 0 "), "longest first"
    assert seconds < 20, seconds


def test_check_stops_at_what_a_run_would_stop_at(tmp_path):
    (tmp_path / "study.toml").write_text('base = "smoke"\n[recipe]\nlearning_rat = 1\n')
    bad = xner("check", "study.toml", cwd=tmp_path)
    assert bad.returncode == 2
    errors = [line for line in bad.stderr.splitlines() if not line.startswith("import time:")]
    assert len(errors) == 1 and "learning_rat" in errors[0], errors
    shard = xner("check", "smoke", "--shard", "9/9", "--strategy", "few-shot", cwd=tmp_path)
    assert shard.returncode == 2
    assert "no training configuration falls in this shard" in shard.stderr


def test_check_lists_the_report_studys_findings_even_offline(tmp_path):
    """The report study needs the hub, which this machine cannot reach: check still lists
    every case and finding it would run, then stops at the model in one line."""
    out = xner("check", "report", cwd=tmp_path)
    listed = [line.split(":")[0].removeprefix("finding ") for line in out.stdout.splitlines()
              if line.startswith("finding ")]  # fmt: skip
    assert listed == [f.name for f in load_study("report").findings] and len(listed) == 9
    if out.returncode != 0:  # no copy of xlm-roberta-base here: the hub's refusal, one line
        errors = [line for line in out.stderr.splitlines() if line.startswith("xner: error:")]
        assert out.returncode == 2 and len(errors) == 1 and "xlm-roberta-base" in errors[0]


def test_ls_names_each_built_in_study_with_its_marker_and_cases(tmp_path):
    out = xner("ls", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    for name in built_in_studies():
        study = load_study(name)
        total = sum(len(study_cases(study, s)) for s in study.strategies)
        assert f"{name} (-m {study.mark}; {total} cases;" in out.stdout
    assert "report (-m gpu; 17 cases;" in out.stdout
