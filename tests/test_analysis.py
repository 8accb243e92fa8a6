"""Predictions kept per cell, error analysis, transfer factors and `xner diff`, on small runs
through `xner run` (the tiny model, a few dozen synthetic sentences per split)."""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.factories import make_result
from xner.data.panx import write_synthetic_xtreme

ENV = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
SIZES = {"train": 160, "validation": 20, "test": 30}
LANGS = ("de", "fr")


def xner(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "xner.cli", *args],
        capture_output=True, text=True, cwd=cwd, env=ENV, timeout=900,
    )  # fmt: skip


def study(path: Path, data: Path, learning_rate: float, name: str) -> Path:
    file = path / f"{name}.toml"
    file.write_text(
        f'base = "smoke"\ndata = "{data}"\nlanguages = ["de", "fr"]\n'
        "[fractions]\nde = 1.0\nfr = 1.0\n"
        f"[recipe]\nlearning_rate = {learning_rate}\nepochs = 3\n"
        '[strategies.zero-shot]\ntrain = ["de"]\neval = ["de", "fr"]\n',
        encoding="utf-8",
    )
    return file


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of one configuration at two learning rates, on the same data."""
    root = tmp_path_factory.mktemp("analysis")
    data = write_synthetic_xtreme(root / "panx", langs=LANGS, sizes=SIZES, raw=True)
    for name, rate in (("fast", 2e-2), ("slow", 1e-2)):
        done = xner("run", str(study(root, data, rate, name)), "--no-progress", "--out", name,
                    cwd=root)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    return root


def records(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]


# ---- an independent reader and chunker, from the CoNLL-2000 conlleval definition ------------


def read_conll(path: Path) -> list[tuple[int, list[tuple[str, str, str]]]]:
    """(sentence id, [(token, gold, predicted)]) per sentence, as the module docstring of the
    file format says: `# sent_id = N` before each sentence, blank lines between."""
    import gzip

    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
    sentences = []
    for line in text.split("\n"):
        if line.startswith("# sent_id = "):
            sentences.append((int(line.removeprefix("# sent_id = ")), []))
        elif line:
            token, gold, predicted = line.split(" ")
            sentences[-1][1].append((token, gold, predicted))
    return sentences


def chunks(tags: list[str]) -> set[tuple[str, int, int]]:
    """conlleval's chunks of one sentence: a chunk starts at B-, or at I- after O or after a
    tag of another type; it ends before O, before B-, or before a tag of another type."""
    found, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        ends = start is not None and (tag == "O" or prefix == "B" or name != kind)
        if ends:
            found.add((kind, start, i - 1))
            start = kind = None
        if tag != "O" and (prefix == "B" or start is None):
            start, kind = i, name
    return found


def conlleval_counts(path: Path) -> dict[str, list[int]]:
    """Per type: [correct, guessed, gold] chunks over the file."""
    counts: dict[str, list[int]] = {}
    for _, rows in read_conll(path):
        gold = chunks([g for _, g, _ in rows])
        guessed = chunks([p for _, _, p in rows])
        for kind, *_ in gold | guessed:
            counts.setdefault(kind, [0, 0, 0])
        for kind, *_ in gold & guessed:
            counts[kind][0] += 1
        for kind, *_ in guessed:
            counts[kind][1] += 1
        for kind, *_ in gold:
            counts[kind][2] += 1
    return counts


def f1(correct: int, guessed: int, gold: int) -> float:
    precision = correct / guessed if guessed else 0.0
    recall = correct / gold if gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# ---- predictions files ----------------------------------------------------------------------


def test_each_cell_has_a_predictions_file_that_conlleval_scores_to_its_record(runs):
    from xner.results.intervals import decode_counts

    for name in ("fast", "slow"):
        out = runs / name
        saved = records(out)
        assert [r["eval_lang"] for r in saved] == list(LANGS)
        assert len({r["predictions"] for r in saved}) == len(saved), "one file per cell"
        for r in saved:
            path = out / r["predictions"]
            assert path.is_file() and path.parent == out / "predictions"
            sentences = read_conll(path)
            assert [i for i, _ in sentences] == list(range(r["n_test"]))
            counts = conlleval_counts(path)
            total = [sum(c[k] for c in counts.values()) for k in range(3)]
            assert f1(*total) == pytest.approx(r["f1"], abs=1e-12)
            types = ["PER", "ORG", "LOC"]
            summed = decode_counts(r["sentence_counts"]).sum(axis=0)  # (types, tp/fp/fn)
            for k, kind in enumerate(types):
                correct, guessed, gold = counts.get(kind, [0, 0, 0])
                assert [correct, guessed - correct, gold - correct] == summed[k].tolist(), kind
                if kind in r["per_type"]:
                    assert f1(correct, guessed, gold) == pytest.approx(r["per_type"][kind])
            # The sentences are the test file's own, words and gold tags (every word labelled:
            # nothing truncated), in the order of the split xner scored (shuffled, see
            # xner.data.sampling.sample_fraction).
            test_file = runs / "panx" / f"test-{r['eval_lang']}.tsv"
            blocks = test_file.read_text(encoding="utf-8").strip().split("\n\n")
            expected = sorted(
                [tuple(line.split(":", 1)[1].replace("\t", " ") for line in block.split("\n"))
                 for block in blocks]
            )  # fmt: skip
            written = sorted(tuple(f"{t} {g}" for t, g, _ in rows) for _, rows in sentences)
            assert written == expected


def test_a_cached_rerun_and_xner_report_keep_the_predictions(runs):
    out = runs / "fast"
    before = {p.name: p.read_bytes() for p in (out / "predictions").iterdir()}
    shutil.rmtree(out / "predictions")  # the cache entry keeps its own copy
    again = xner("run", str(runs / "fast.toml"), "--no-progress", "--out", "fast", cwd=runs)
    assert "trained 0 configuration(s), 1 from cache" in again.stdout, again.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in (out / "predictions").iterdir()} == before
    report = xner("report", "fast/results.json", "--out", "rebuilt", cwd=runs)
    assert report.returncode == 0, report.stderr
    assert {p.name: p.read_bytes() for p in (runs / "rebuilt" / "predictions").iterdir()} == before
    for name in ("tables.md", "results.json", "errors.png"):
        assert (runs / "rebuilt" / name).read_bytes() == (out / name).read_bytes(), name
    merged = xner("merge", "fast/results.json", "slow/results.json", "--out", "merged", cwd=runs)
    assert merged.returncode == 0, merged.stderr
    for r in records(runs / "merged"):
        study = Path(r["predictions"]).name.split("-")[0]  # the cache entry's name: study first
        source = runs / study / r["predictions"]
        assert (runs / "merged" / r["predictions"]).read_bytes() == source.read_bytes()


# ---- error analysis and factors in the files --------------------------------------------------


def test_records_tables_and_errors_png_carry_the_analysis(runs):
    out = runs / "fast"
    for r in records(out):
        strict = r["errors"]["categories"]["strict"]
        counts = conlleval_counts(out / r["predictions"])
        assert strict["correct"] == sum(c[0] for c in counts.values())
        gold = sum(c[2] for c in counts.values())
        assert sum(n for row, cols in r["errors"]["confusion"].items() if row != "spurious"
                   for n in cols.values()) == gold  # fmt: skip
        assert set(r["factors"]) >= {"fertility", "split_share", "truncated_share"}
    text = (out / "tables.md").read_text(encoding="utf-8")
    assert "## Where F1 is lost" in text and "## What drives transfer" in text
    assert (out / "errors.png").stat().st_size > 10_000


def test_fertility_and_type_shares_against_a_direct_count(runs):
    from xner.training.model import load_tokenizer

    tokenizer = load_tokenizer("tiny")
    for r in records(runs / "fast"):
        lines = (runs / "panx" / f"test-{r['eval_lang']}.tsv").read_text(encoding="utf-8")
        rows = [line.split("\t") for line in lines.splitlines() if line]
        pieces = [len(tokenizer(w.split(":", 1)[1], add_special_tokens=False)["input_ids"])
                  for w, _ in rows]  # fmt: skip
        factors = r["factors"]
        assert factors["words"] == len(rows)
        assert factors["fertility"] == pytest.approx(sum(pieces) / len(rows), abs=1e-6)
        assert factors["split_share"] == pytest.approx(
            sum(n > 1 for n in pieces) / len(rows), abs=1e-6
        )
        begins = Counter(tag[2:] for _, tag in rows if tag.startswith("B-"))
        assert factors["entity_types"]["counts"] == {t: begins[t] for t in ("PER", "ORG", "LOC")}


def test_truncation_share_agrees_with_the_encoders_own_count():
    import datasets

    from xner.data.align import encode_counting_loss
    from xner.data.factors import segment
    from xner.data.panx import synthetic_panx
    from xner.training.model import load_tokenizer

    tokenizer = load_tokenizer("tiny")
    test = synthetic_panx("de", {"train": 1, "validation": 1, "test": 60})["test"]
    seg = segment(tokenizer, test["tokens"], max_length=10)
    _, losses = encode_counting_loss(datasets.DatasetDict(test=test), tokenizer, max_length=10)
    assert seg.truncated == losses["test"].truncated > 0
    assert sum(map(len, seg.labelled)) == losses["test"].words - losses["test"].total


# ---- xner diff --------------------------------------------------------------------------------


def test_diff_counts_the_sentences_whose_predicted_tags_differ(runs):
    done = xner("diff", "fast/results.json", "slow", "--limit", "2", cwd=runs)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    a, b = records(runs / "fast"), records(runs / "slow")
    for ra, rb in zip(a, b, strict=True):
        sa, sb = (
            read_conll(runs / "fast" / ra["predictions"]),
            read_conll(runs / "slow" / rb["predictions"]),
        )
        differ = sum(
            [p for _, _, p in x[1]] != [p for _, _, p in y[1]] for x, y in zip(sa, sb, strict=True)
        )
        assert differ > 0, "two learning rates, two sets of predictions"
        start = f"zero-shot de->{ra['eval_lang']} seed 0: F1"
        header = next(i for i, line in enumerate(lines) if line.startswith(start))
        assert f"F1 {ra['f1']:.4f} -> {rb['f1']:.4f}, paired difference" in lines[header]
        assert lines[header + 1].startswith(f"  {differ} of {ra['n_test']} test sentences changed")
    assert "  <" in done.stdout, "changed tags are marked"
    one = xner("diff", "fast", "slow", "--cell", "zero-shot de->fr", cwd=runs)
    assert [line for line in one.stdout.splitlines() if " seed 0: F1 " in line] == [
        line for line in lines if line.startswith("zero-shot de->fr seed 0: F1")
    ]


def test_diff_refuses_runs_of_different_test_data_in_one_line(runs):
    other = write_synthetic_xtreme(runs / "other", langs=LANGS, sizes=SIZES | {"train": 40},
                                   seed=1, raw=True)  # fmt: skip
    file = study(runs, other, 2e-2, "other")
    done = xner("run", str(file), "--no-progress", "--out", "other-out", cwd=runs)
    assert done.returncode == 0, done.stderr[-2000:]
    refused = xner("diff", "fast", "other-out", cwd=runs)
    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert "scored different test sentences on de" in line and "same test data" in line


def test_a_cache_entry_without_its_predictions_file_trains_again(tmp_path):
    from xner.execution.cache import CACHE_SCHEMA, read_cache

    record = make_result(predictions="predictions/entry.de.conll").to_dict()
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps({"schema": CACHE_SCHEMA, "results": [record]}))
    assert read_cache(entry) is None and (tmp_path / "entry.json.unreadable").is_file()
    entry.write_text(json.dumps({"schema": CACHE_SCHEMA, "results": [record]}))
    (tmp_path / "entry.de.conll").write_text("# sent_id = 0\n\n")
    assert [r.f1 for r in read_cache(entry)] == [0.5]
    entry.write_text(json.dumps({"schema": CACHE_SCHEMA - 1, "results": [record]}))  # before
    assert read_cache(entry) is None
