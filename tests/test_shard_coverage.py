"""`xner merge` of shards: it knows the plan they were cut from and what of it is missing.

The shards' results.json are built from the smoke study's real plan (xner.execution.shard_plan:
which configuration falls in which of 4 shards) with one record per configuration and
evaluation language; nothing trains.
"""

import dataclasses
import json

import pytest

from xner.cli.main import main
from xner.execution.schedule import Shard
from xner.execution.shard_plan import shard_plan
from xner.reporting.merge import MergeError, merge_runs
from xner.results.records import Result, save_results
from xner.spec.study import load_study

VERSIONS = {"xner": "1", "transformers": "5.24.0"}
STUDY = load_study("smoke")
CONFIGS = {
    f"smoke-{c.strategy}-{c.label}": c for s in STUDY.strategies.values() for c in s.configs()
}


def record(config, lang: str, seed: int = 0) -> Result:
    f1 = 0.5 + 0.01 * len(config.label) + 0.001 * seed
    return Result(
        strategy=config.strategy, train_langs=list(config.train_langs), train_size=100,
        eval_lang=lang, seed=seed, f1=f1, precision=f1, recall=f1, per_type={"PER": f1},
        n_test=10, model="tiny", data_source="synthetic", train_seconds=1.0, eval_seconds=0.1,
        versions=VERSIONS, device="cpu", config=config.label, study="smoke",
        size=config.size, runtime={"dtype": "fp32"},
    )  # fmt: skip


def shard_file(tmp_path, index: int, count: int = 4, seeds=(0,), **plan_changes):
    """Shard `index` of `count` as `xner run --shard` writes it: its records and its plan."""
    plan = shard_plan([STUDY], Shard(index, count), seeds) | plan_changes
    mine = [CONFIGS[name] for name, where in plan["configurations"].items() if where == index]
    results = [record(c, lang, seed) for c in mine for lang in c.eval_langs for seed in seeds]
    run = {"versions": VERSIONS, "recipes": {"smoke": {"lr": 0.01}}, "shard": f"{index}/{count}",
           "plan": plan}  # fmt: skip
    return save_results(tmp_path / f"shard{index}" / "results.json", results, run)


def shards_of(plan_shard: int):
    """The configuration names of shard `plan_shard` of 4, from the plan itself."""
    plan = shard_plan([STUDY], Shard(1, 4), [0])
    return sorted(name for name, where in plan["configurations"].items() if where == plan_shard)


def test_all_shards_merge_whole_naming_them_without_a_shard_label(tmp_path):
    paths = [shard_file(tmp_path, i) for i in (1, 2, 3, 4)]
    merged = merge_runs(paths)
    cells = {(r.config, r.eval_lang) for r in merged.results}
    assert cells == {(c.label, lang) for c in CONFIGS.values() for lang in c.eval_langs}
    assert len(cells) == 17
    assert merged.run["whole"] is True and merged.run["shard"] is None
    assert "incomplete" not in merged.run and "shard" not in merged.run["plan"]
    assert merged.run["shards"] == {f"{i}/4": str(p) for i, p in enumerate(paths, 1)}


def test_three_of_four_shards_exit_non_zero_naming_the_missing_one(tmp_path, capsys):
    paths = [str(shard_file(tmp_path, i)) for i in (1, 2, 4)]
    assert main(["merge", *paths, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("xner: error: incomplete: ")
    missing = shards_of(3)
    assert f"shard 3/4 (not given): {', '.join(missing)}" in err
    assert not any(f"shard {i}/4" in err for i in (1, 2, 4))
    assert not (tmp_path / "out").exists()


def test_one_shard_alone_is_not_a_whole_run(tmp_path):
    with pytest.raises(MergeError, match=r"shard 2/4 \(not given\).*shard 3/4 \(not given\)"):
        merge_runs([shard_file(tmp_path, 1)])


def test_partial_merges_with_the_banner_first(tmp_path, capsys):
    paths = [str(shard_file(tmp_path, i)) for i in (1, 2, 4)]
    out = tmp_path / "out"
    assert main(["merge", *paths, "--out", str(out), "--partial"]) == 0
    missing = ", ".join(shards_of(3))
    line = (
        f"INCOMPLETE: {len(shards_of(3))} of 8 trainings missing: shard 3/4 (not given): {missing}"
    )
    assert line in capsys.readouterr().out
    text = (out / "tables.md").read_text()
    assert text.split("\n\n")[1] == f"**{line}**"  # right under the title
    saved = json.loads((out / "results.json").read_text())
    assert next(iter(saved["run"])) == "incomplete"  # the first thing of the run
    assert saved["run"]["incomplete"]["missing"] == {"3/4": shards_of(3)}
    assert saved["run"]["whole"] is False and saved["run"]["shard"] is None
    # The missing shard merged onto the partial merge makes it whole, banner gone.
    merged = merge_runs([out / "results.json", shard_file(tmp_path, 3)])
    assert merged.run["whole"] is True and "incomplete" not in merged.run
    assert sorted(merged.run["shards"]) == ["1/4", "2/4", "3/4", "4/4"]


def test_a_shard_without_one_of_its_trainings_is_named(tmp_path):
    path = shard_file(tmp_path, 4)
    saved = json.loads(path.read_text())
    saved["results"] = [r for r in saved["results"] if r["config"] != "fr:300"]
    path.write_text(json.dumps(saved))
    paths = [shard_file(tmp_path, i) for i in (1, 2, 3)] + [path]
    with pytest.raises(MergeError, match=r"1 of 8 trainings missing: shard 4/4 \(lacks\): "
                       r"smoke-few-shot-fr:300 \("):  # fmt: skip
        merge_runs(paths)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (lambda tmp: shard_file(tmp / "n3", 3, count=3), "their shards differ"),
        (lambda tmp: shard_file(tmp, 4, fingerprint="0" * 16), "their fingerprint differ"),
        (lambda tmp: shard_file(tmp, 4, seeds=(0, 1)), "their seeds differ"),
        (lambda tmp: shard_file(tmp / "again", 1), "shard 1/4 is given twice"),
    ],
    ids=["count", "fingerprint", "seeds", "twice"],
)
def test_shards_of_different_plans_are_refused(tmp_path, other, message):
    paths = [shard_file(tmp_path, i) for i in (1, 2, 3)] + [other(tmp_path)]
    with pytest.raises(MergeError, match=message):
        merge_runs(paths)


def test_a_whole_run_with_shards_is_refused(tmp_path):
    whole = tmp_path / "whole.json"
    plain = json.loads(shard_file(tmp_path / "w", 4).read_text())
    del plain["run"]["plan"]
    whole.write_text(json.dumps(plain))
    with pytest.raises(MergeError, match="is not a shard"):
        merge_runs([shard_file(tmp_path, 1), whole])


def test_the_fingerprint_follows_study_model_data_and_runtime():
    base = shard_plan([STUDY], Shard(1, 2), [0])["fingerprint"]
    assert shard_plan([STUDY], Shard(2, 2), [0])["fingerprint"] == base  # one plan, two shards
    assert shard_plan([STUDY], Shard(1, 2), [0], model="tiny-128")["fingerprint"] != base
    assert shard_plan([STUDY], Shard(1, 2), [0], data="/data/panx")["fingerprint"] != base
    bf16 = shard_plan([STUDY], Shard(1, 2), [0], runtime_options={"dtype": "bf16"})
    assert bf16["fingerprint"] != base
    recipe = dataclasses.replace(STUDY, recipe=dataclasses.replace(STUDY.recipe, epochs=1))
    assert shard_plan([recipe], Shard(1, 2), [0])["fingerprint"] != base
