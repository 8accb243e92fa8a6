"""Trainings in worker processes through the real engine: --jobs N gives a serial run's
figures bit for bit, and shards merged give one full run's tables (smoke few-shot: five
small trainings, about half a minute on two cores, twice)."""

import json

import pytest

from xner.cli.main import main


def run(tmp_path, name, *args):
    out = tmp_path / name
    assert main(["run", "smoke", "--strategy", "few-shot", "--no-progress", "--out", str(out),
                 *args]) == 0  # fmt: skip
    return out


def figures(out):
    records = json.loads((out / "results.json").read_text())["results"]
    return {(r["config"], r["eval_lang"], r["seed"]): (r["f1"], r["per_type"]) for r in records}


def body(out):
    """tables.md from its first table on (the lines above say when and where it ran)."""
    text = (out / "tables.md").read_text()
    return text[text.index("### ") :]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return run(tmp_path_factory.mktemp("serial"), "serial")


def test_two_jobs_give_the_serial_figures_bit_for_bit(serial, tmp_path):
    parallel = run(tmp_path, "parallel", "--jobs", "2")
    assert figures(parallel) == figures(serial)
    assert body(parallel) == body(serial)
    records = json.loads((parallel / "results.json").read_text())["results"]
    assert {r["runtime"]["threads"] for r in records} == {1}
    assert all(r["train_steps"] > 0 for r in records)


def test_shards_merged_give_the_full_tables(serial, tmp_path, capsys):
    # On the serial run's cache: the shards' share of the plan and the merge are under test
    # here, their trainings are the serial run's (real trainings in shards: test_slurm.py,
    # test_shared_cache.py).
    cache = str(serial / "cache")
    outs = [run(tmp_path, f"shard{i}", "--shard", f"{i}/3", "--cache", cache) for i in (1, 2, 3)]
    assert capsys.readouterr().out.count("trained 0 configuration(s)") == 3
    counts = [len(figures(out)) for out in outs]
    assert sum(counts) == len(figures(serial)) and all(counts)
    assert main(["merge", *(str(o / "results.json") for o in outs),
                 "--out", str(tmp_path / "merged")]) == 0  # fmt: skip
    assert figures(tmp_path / "merged") == figures(serial)
    assert body(tmp_path / "merged") == body(serial)


def test_a_failing_job_is_one_line(tmp_path, capsys):
    code = main(["run", "smoke", "--strategy", "few-shot", "--data", str(tmp_path / "none"),
                 "--out", str(tmp_path / "out"), "--jobs", "2", "--no-progress"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("xner: error: ") and "none" in err


def test_a_job_that_fails_in_its_worker_is_one_line(tmp_path):
    """Past the parent's preflight (run_jobs straight away, as `xner run` calls it after its
    checks): a data folder without the language's files fails inside a real worker process,
    whose reply comes back as one WorkerError line naming the folder, and nothing is cached."""
    from xner.execution.jobs import Job, WorkerError, run_jobs
    from xner.spec.runtime import Runtime
    from xner.spec.study import load_study

    data = tmp_path / "panx"
    data.mkdir()
    (data / "train-de.tsv").write_text("Berlin\tB-LOC\n\n", encoding="utf-8")  # dev, test lack
    smoke = load_study("smoke")
    config = smoke.strategies["zero-shot"].configs()[0]
    jobs = [Job("smoke", config, 0, Runtime(threads=1), "tiny", str(data), str(tmp_path / "c"),
                progress=False)]  # fmt: skip
    with pytest.raises(WorkerError) as raised:
        run_jobs(jobs, 1, [1.0])
    message = str(raised.value)
    assert "\n" not in message and str(data) in message, message
    assert "stopped with exit code" not in message, "the worker replied, it did not die"
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
