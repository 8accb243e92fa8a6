"""The scripts `xner slurm` writes, without a Slurm: what each says, that bash reads them,
and that the submitting one calls sbatch as documented (a stand-in sbatch on PATH records
its arguments; the real one runs in tests/test_slurm.py)."""

import os
import subprocess
import sys

from xner.cli.main import main


def write(tmp_path, *args):
    out = tmp_path / "out"
    assert main(["slurm", "smoke", "--shards", "4", "--out", str(out), *args]) == 0
    return out, out / "slurm"


def test_the_array_and_merge_jobs_spell_out_what_a_task_needs(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", "/models/hf home")
    out, folder = write(tmp_path, "--cache", str(tmp_path / "c"), "--cpus-per-task", "6",
                        "--", "--gres=gpu:1", "--time=01:00:00")  # fmt: skip
    array, merge = (folder / "array.sbatch").read_text(), (folder / "merge.sbatch").read_text()
    for line in ("#SBATCH --array=1-4", "#SBATCH --cpus-per-task=6", "#SBATCH --export=NONE",
                 "#SBATCH --gres=gpu:1", "#SBATCH --time=01:00:00",
                 f"#SBATCH --output={folder}/logs/shard-%a-of-4.out",
                 "export HF_HOME='/models/hf home'", f"exec {sys.executable} -m xner.cli run",
                 '--shard "$SLURM_ARRAY_TASK_ID/4"',
                 f'--out {out}/shard-"$SLURM_ARRAY_TASK_ID"-of-4',
                 f"--cache {tmp_path / 'c'}", "--no-progress"):  # fmt: skip
        assert line in array, line
    assert f"export PATH={os.path.dirname(sys.executable)}:" in array
    assert "#SBATCH --time=01:00:00" in merge and "gres" not in merge  # resources: the array's
    assert f"merge {out}/shard-*-of-4/results.json \\\n    --out {out}/merged" in merge
    for script in ("array.sbatch", "merge.sbatch", "submit.sh", "resubmit.sh"):
        assert subprocess.run(["bash", "-n", str(folder / script)]).returncode == 0, script


def test_submit_and_resubmit_call_sbatch_as_documented(tmp_path, monkeypatch):
    """A stand-in sbatch (job ids 7, 8, ...) and squeue (the merge is gone: cancelled)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "sbatch").write_text('#!/bin/bash\necho "$@" >> "$LOG"\nn=$(wc -l < "$LOG")\n'
                                 'echo "$((n + 6));cluster"\n')  # fmt: skip
    (bin_ / "squeue").write_text("#!/bin/bash\nexit 0\n")
    for tool in bin_.iterdir():
        tool.chmod(0o755)
    log = tmp_path / "calls"
    monkeypatch.setenv("LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_}:{os.environ['PATH']}")
    out, folder = write(tmp_path, "--submit")
    calls = log.read_text().splitlines()
    assert calls == ["--parsable array.sbatch",
                     "--parsable --dependency=afterok:7 --kill-on-invalid-dep=yes "
                     "merge.sbatch"]  # fmt: skip
    assert (folder / "array.ids").read_text() == "7\n" and (
        folder / "merge.id"
    ).read_text() == "8\n"
    done = subprocess.run(["bash", str(folder / "resubmit.sh"), "2,4"], capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines()[2:] == [
        "--parsable --array=2,4 array.sbatch",
        "--parsable --dependency=afterany:7,afterok:9 --kill-on-invalid-dep=yes merge.sbatch",
    ]
    assert "resubmitted as job 9; new merge job 10" in done.stdout


def test_more_shards_than_configurations_is_one_line(tmp_path, capsys):
    assert main(["slurm", "smoke", "--shards", "9", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "smoke has 8 training configurations" in err


def test_what_follows_double_dash_is_sbatch_s(tmp_path):
    out, folder = write(tmp_path, "--", "--partition=gpu", "-c", "3")
    array, merge = (folder / "array.sbatch").read_text(), (folder / "merge.sbatch").read_text()
    assert "#SBATCH --partition=gpu\n#SBATCH -c 3\n" in array
    assert (
        "#SBATCH --partition=gpu\n" in merge and "-c 3" not in merge and "\n#SBATCH 3" not in merge
    )
