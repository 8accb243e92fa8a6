"""A CoNLL study end to end, as a user runs it: CoNLL-2003-style English (IOB1, four columns,
-DOCSTART-) and CoNLL-2002-style Spanish (IOB2, two columns, Latin-1) through `xner run` and
through `pytest --xner-study`, with the per-type gold entity counts of each test file checked
against a count of its chunks made here, from the file's text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from xner.data.conll import write_conll
from xner.data.synthetic_conll import synthetic_conll_sentences, write_synthetic_conll
from xner.results.intervals import decode_counts

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
TYPES = ["PER", "ORG", "LOC", "MISC"]
# A Spanish sentence that only Latin-1 decodes (ñ and í as single bytes), first in the file.
CORUNA = (["La", "Coruña", "es", "de", "María"], ["O", "B-LOC", "O", "O", "B-PER"])


def chunks(path: Path, encoding: str) -> Counter:
    """Entities per type in a CoNLL file, counted from its last column: an entity starts at
    B-X, or at I-X after anything but B-X or I-X (IOB1's rule; in IOB2 every entity has its
    B-, so the same rule counts it)."""
    counts: Counter = Counter()
    previous = "O"
    for line in path.read_text(encoding=encoding).splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            previous = "O"
            continue
        tag = line.split()[-1]
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            counts[tag[2:]] += 1
        previous = tag
    return counts


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("conll")
    english = write_synthetic_conll(root, "en", {"train": 400, "validation": 100, "test": 150})
    spanish = [CORUNA, *synthetic_conll_sentences("it", "test", 120)]
    write_conll(spanish, root / "esp.testb", "iob2", encoding="latin-1")
    path = root / "conll.toml"
    path.write_text(
        f"""\
model = "tiny"
version = 1

[recipe]
learning_rate = 1e-2
epochs = 2

[runtime]
threads = 1
portable = true

[corpus.en]
train = "{english["train"].relative_to(root).as_posix()}"
validation = "{english["validation"].relative_to(root).as_posix()}"
test = "{english["test"].relative_to(root).as_posix()}"
format = "conll"
scheme = "auto"

[corpus.es]
test = "esp.testb"
scheme = "iob2"
encoding = "latin-1"

[strategies.zero-shot]
train = ["en"]
eval = ["en", "es"]
""",
        encoding="utf-8",
    )
    return path


def gold_counts(record: dict) -> dict[str, int]:
    """Per type, the gold entities the run scored: true positives plus false negatives."""
    counts = decode_counts(record["sentence_counts"])  # sentences x types x (tp, fp, fn)
    gold = counts[:, :, 0].sum(axis=0) + counts[:, :, 2].sum(axis=0)
    return dict(zip(record["entity_types"], np.asarray(gold).tolist(), strict=True))


def check_run(out: Path, study: Path) -> dict:
    records = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    assert [r["eval_lang"] for r in records] == ["en", "es"]
    files = {"en": (study.parent / "en" / "test.txt", "utf-8"),
             "es": (study.parent / "esp.testb", "latin-1")}  # fmt: skip
    for record in records:
        assert record["entity_types"] == TYPES
        path, encoding = files[record["eval_lang"]]
        counted = chunks(path, encoding)
        assert gold_counts(record) == {t: counted.get(t, 0) for t in TYPES}
        interval = record["interval"]
        assert interval["micro"]["low"] <= record["f1"] <= interval["micro"]["high"]
        assert set(interval["per_type"]) == set(record["per_type"])
    tables = (out / "tables.md").read_text(encoding="utf-8")
    header = next(line for line in tables.splitlines() if line.startswith("| strategy"))
    assert [c.strip() for c in header.strip("|").split("|")][3:] == TYPES
    return {r["eval_lang"]: r["f1"] for r in records}


def test_a_conll_study_through_xner_run_and_pytest(study, tmp_path):
    ran = subprocess.run(
        [sys.executable, "-m", "xner.cli", "run", str(study), "--out", str(tmp_path / "cli"),
         "--no-progress"],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "trained 1 configuration(s)" in ran.stdout
    from_cli = check_run(tmp_path / "cli", study)

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_transfer.py"),
         "--xner-study", str(study), "--xner-results", str(tmp_path / "pytest"),
         "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, env=ENV, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "2 passed" in tested.stdout
    # The same engine and the same pinned numerics: the same figures from either front.
    assert check_run(tmp_path / "pytest", study) == from_cli


# MasakhaNER's tag names (and order): PAN-X's types plus DATE.
MASAKHANER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]


def test_a_hub_shaped_local_dataset_with_its_own_names_through_xner_run(tmp_path):
    """A `save_to_disk` copy of a MasakhaNER-shaped dataset (tokens, ner_tags indices, the
    names in the ClassLabel, DATE among them) trains a head of its nine tags, and its table
    and gold counts have DATE."""
    import datasets

    def rows(split: str, n: int) -> list:
        # The synthetic MISC entities stand in for dates: same words, another type.
        return [
            (tokens, [t.replace("MISC", "DATE") for t in tags])
            for tokens, tags in synthetic_conll_sentences("en", split, n)
        ]

    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=MASAKHANER)),
    })  # fmt: skip
    splits = {"train": rows("train", 300), "validation": rows("validation", 60),
              "test": rows("test", 100)}  # fmt: skip
    datasets.DatasetDict({
        split: datasets.Dataset.from_dict(
            {"tokens": [t for t, _ in sents],
             "ner_tags": [[MASAKHANER.index(tag) for tag in tags] for _, tags in sents]},
            features=features,
        )
        for split, sents in splits.items()
    }).save_to_disk(str(tmp_path / "masakhaner"))  # fmt: skip
    (tmp_path / "dates.toml").write_text(
        'model = "tiny"\n[recipe]\nlearning_rate = 1e-2\nepochs = 1\n'
        '[corpus.en]\ndata = "masakhaner"\n'
        '[strategies.zero-shot]\ntrain = ["en"]\neval = ["en"]\n',
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "xner.cli", "run", str(tmp_path / "dates.toml"),
         "--out", str(tmp_path / "out"), "--no-progress"],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    (record,) = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert record["entity_types"] == ["PER", "ORG", "LOC", "DATE"]
    counted = Counter(tag[2:] for _, tags in splits["test"] for tag in tags if tag.startswith("B-"))
    assert gold_counts(record) == {t: counted[t] for t in record["entity_types"]}
    assert "DATE" in (tmp_path / "out" / "tables.md").read_text(encoding="utf-8")
