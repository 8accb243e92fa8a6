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
