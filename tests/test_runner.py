"""Running configurations: training data per strategy, the result cache and its key."""

import dataclasses

import pytest

from xner.data.panx import write_synthetic_xtreme
from xner.execution.runner import Runner
from xner.spec.recipe import Recipe
from xner.spec.strategies import Strategy, TrainConfig
from xner.spec.study import Study

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release

SIZES = {"train": 60, "validation": 20, "test": 20}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_synthetic_xtreme(tmp_path_factory.mktemp("panx"), sizes=SIZES)


@pytest.fixture
def study(data_dir):
    return Study(
        "test",
        model="tiny",
        data=str(data_dir),
        strategies={"zero-shot": Strategy("zero-shot", (("de",),), ("de", "fr"))},
        languages=("de", "fr", "it", "en"),
        recipe=Recipe(learning_rate=3e-3, epochs=1),
        few_shot_sizes=(10, 20),
    )


ZERO = TrainConfig("zero-shot", ("de",), ("de", "fr"))
FEW = TrainConfig("few-shot", ("fr",), ("fr",), size=10)
MULTI = TrainConfig("multilingual", ("de", "fr"), ("it",))


def test_training_data_per_strategy(study):
    runner = Runner(study, progress=False)
    assert runner.training_data(ZERO)["train"].num_rows == 60
    assert runner.training_data(FEW)["train"].num_rows == 10
    multi = runner.training_data(MULTI)
    assert (multi["train"].num_rows, multi["validation"].num_rows) == (120, 40)
    assert set(multi["train"].column_names) == {"input_ids", "attention_mask", "labels"}


def test_results_carry_the_contract_fields(study):
    results = Runner(study, progress=False).run(ZERO, seed=0)
    assert [r.eval_lang for r in results] == ["de", "fr"]
    r = results[0]
    assert (r.strategy, r.train_langs, r.train_size, r.seed, r.n_test) == (
        "zero-shot",
        ["de"],
        60,
        0,
        20,
    )
    assert r.model == "tiny" and r.data_source == study.data
    assert set(r.versions) >= {"torch", "transformers", "datasets", "seqeval", "xner"}
    import torch

    assert r.device.startswith("cuda:" if torch.cuda.is_available() else "cpu:")
    assert 0.0 <= r.f1 <= 1.0 and r.train_seconds > 0


def test_one_training_serves_every_evaluation_language(study):
    runner = Runner(study, progress=False)
    runner.run(ZERO, seed=0)
    assert runner.trained_labels == ["de"]


def test_a_rerun_trains_only_what_is_missing(study, tmp_path):
    """An interrupted run (only ZERO finished) started again trains only FEW."""
    first = Runner(study, cache_dir=tmp_path, progress=False)
    before = first.run(ZERO, seed=0)
    again = Runner(study, cache_dir=tmp_path, progress=False)
    assert again.run(ZERO, seed=0) == before
    again.run(FEW, seed=0)
    assert again.trained_labels == ["fr:10"]
    forced = Runner(study, cache_dir=tmp_path, force=True, progress=False)
    assert [r.f1 for r in forced.run(ZERO, seed=0)] == [r.f1 for r in before]
    assert forced.trained_labels == ["de"]


def test_cache_key_changes_with_every_input(study):
    base = Runner(study, progress=False).cache_key(ZERO, 0)
    assert Runner(study, progress=False).cache_key(ZERO, 0) == base
    variants = [
        Runner(study, progress=False).cache_key(ZERO, 1),
        Runner(study, progress=False).cache_key(dataclasses.replace(ZERO, size=30), 0),
        Runner(study, progress=False).cache_key(dataclasses.replace(ZERO, version=2), 0),
        Runner(study, model="xlm-roberta-base", progress=False).cache_key(ZERO, 0),
        Runner(study, data="synthetic", progress=False).cache_key(ZERO, 0),
        Runner(
            dataclasses.replace(study, recipe=Recipe(learning_rate=1e-3, epochs=1)),
            progress=False,
        ).cache_key(ZERO, 0),
        Runner(
            dataclasses.replace(study, fractions={"de": 0.5, "fr": 0.5}), progress=False
        ).cache_key(ZERO, 0),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_cache_key_follows_the_data_files(study, data_dir):
    before = Runner(study, progress=False).cache_key(ZERO, 0)
    extra = data_dir / "notes.txt"
    extra.write_text("a changed data folder")
    try:
        assert Runner(study, progress=False).cache_key(ZERO, 0) != before
    finally:
        extra.unlink()


def test_cache_key_follows_xners_code(tmp_path):
    """The real fingerprint, on a copy of the package: an edit to any source file, a new
    module or a renamed one changes it; the same sources give the same one."""
    import shutil

    from xner.execution.cache import PACKAGE, code_fingerprint

    copy = tmp_path / "xner"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_fingerprint(copy)
    assert before == code_fingerprint(PACKAGE), "the copy is the package"
    seen = {before}
    train = copy / "training" / "train.py"
    train.write_text(train.read_text() + "\n# an edit\n")
    seen.add(code_fingerprint(copy))
    (copy / "extra.py").write_text("")
    seen.add(code_fingerprint(copy))
    (copy / "extra.py").rename(copy / "other.py")
    seen.add(code_fingerprint(copy))
    assert len(seen) == 4
    (copy / "notes.txt").write_text("not code")
    assert code_fingerprint(copy) in seen, "only Python sources count"


@pytest.mark.parametrize(
    "content",
    ['[\n {\n  "strategy": "zero-', '{"schema": 99, "results": []}', "\x00\xff"],
    ids=["torn", "other-schema", "not-json"],
)
def test_an_unreadable_cache_entry_is_moved_aside_and_retrained(study, tmp_path, caplog,
                                                               content):  # fmt: skip
    first = Runner(study, cache_dir=tmp_path, progress=False)
    before = first.run(ZERO, seed=0)
    (entry,) = tmp_path.glob("*.json")
    entry.write_bytes(content.encode("latin-1"))
    again = Runner(study, cache_dir=tmp_path, progress=False)
    assert [r.f1 for r in again.run(ZERO, seed=0)] == [r.f1 for r in before]
    assert again.trained_labels == ["de"]
    aside = entry.with_name(entry.name + ".unreadable")
    assert aside.read_bytes() == content.encode("latin-1"), "kept, not deleted"
    assert f"{entry}: unreadable cache entry" in caplog.text and "training again" in caplog.text
    assert Runner(study, cache_dir=tmp_path, progress=False).run(ZERO, seed=0) == again.run(
        ZERO, seed=0
    )  # the retrained entry is readable again
