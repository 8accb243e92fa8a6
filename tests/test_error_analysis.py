"""Error categories, type confusion, the predictions file format, the factor correlations and
errors.png, on hand-made tag sequences and records (no training)."""

import dataclasses
import gzip

import pytest

from tests.factories import make_result
from xner.reporting.analysis import correlations, error_tables, factor_tables
from xner.reporting.errorplot import plot_errors
from xner.results.errors import error_analysis
from xner.results.predictions import (
    GZIP_OVER,
    conll_text,
    encode_file,
    read_predictions,
    split_fingerprint,
)
from xner.results.records import Result

TYPES = ["PER", "ORG", "LOC"]


def test_categories_and_confusion_of_hand_counted_sentences():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], ["O"], ["B-LOC", "I-LOC"]]
    pred = [["B-PER", "O", "O", "B-ORG"], ["O", "O"], ["B-LOC"], ["B-LOC", "I-LOC"]]
    found = error_analysis(gold, pred, TYPES)
    # PER 0-1 vs 0-0: boundary; LOC 3 vs ORG 3: type; ORG missed; LOC spurious; LOC 0-1 exact.
    assert found["categories"]["strict"] == {
        "correct": 1, "incorrect": 2, "partial": 0, "missed": 1, "spurious": 1}  # fmt: skip
    assert found["categories"]["exact"]["incorrect"] == 1  # the PER, wrong boundary
    assert found["categories"]["ent_type"]["incorrect"] == 1  # the LOC taken for an ORG
    assert found["categories"]["partial"]["partial"] == 1
    assert found["confusion"] == {
        "LOC": {"LOC": 1, "ORG": 1}, "ORG": {"missed": 1}, "PER": {"PER": 1},
        "spurious": {"LOC": 1},
    }  # fmt: skip
    assert found["per_type"]["LOC"]["strict"]["correct"] == 1


def test_an_i_tag_after_o_opens_an_entity_as_in_the_f1():
    found = error_analysis([["O", "I-PER"]], [["O", "B-PER"]], TYPES)
    assert found["categories"]["strict"]["correct"] == 1
    strict = error_analysis([["O", "I-PER"]], [["O", "B-PER"]], TYPES, mode="strict")
    assert strict["categories"]["strict"]["spurious"] == 1  # IOB2 strict: no gold entity


def test_no_entity_at_all_is_all_zero():
    found = error_analysis([["O"], []], [["O"], []], TYPES)
    assert set(found["categories"]["strict"].values()) == {0} and found["confusion"] == {}


def test_predictions_text_round_trips_and_large_files_are_gzipped(tmp_path):
    tokens = [["New York", "ist"], [], ["a\tb", ""]]
    gold = [["B-LOC", "O"], [], ["O", "O"]]
    pred = [["B-LOC", "B-PER"], [], ["O", "O"]]
    text = conll_text(tokens, gold, pred)
    assert text.startswith("# sent_id = 0\nNew_York B-LOC B-LOC\nist O B-PER\n\n# sent_id = 1\n\n")
    suffix, data = encode_file(text)
    assert suffix == ".conll" and data == text.encode()
    (tmp_path / "p.conll").write_bytes(data)
    read = read_predictions(tmp_path / "p.conll")
    assert [s.index for s in read] == [0, 1, 2] and read[1].tokens == []
    assert read[2].tokens == ["a_b", "_"] and read[0].predicted == ["B-LOC", "B-PER"]
    big = conll_text([["Wort"] * 20] * 400, [["O"] * 20] * 400, [["O"] * 20] * 400)
    assert len(big) > GZIP_OVER
    suffix, data = encode_file(big)
    assert suffix == ".conll.gz" and gzip.decompress(data).decode() == big
    assert encode_file(big) == (suffix, data), "the same bytes every time (no timestamp)"
    (tmp_path / "p.conll.gz").write_bytes(data)
    assert len(read_predictions(tmp_path / "p.conll.gz")) == 400


def test_a_malformed_predictions_line_names_file_and_line(tmp_path):
    (tmp_path / "bad.conll").write_text("# sent_id = 0\nBerlin B-LOC\n")
    with pytest.raises(ValueError, match=r"bad.conll:2: not `token gold predicted`"):
        read_predictions(tmp_path / "bad.conll")


def test_fingerprint_changes_with_a_word_or_a_tag():
    base = split_fingerprint([["a", "b"]], [["O", "B-PER"]])
    assert base == split_fingerprint([["a", "b"]], [["O", "B-PER"]])
    assert base != split_fingerprint([["a", "c"]], [["O", "B-PER"]])
    assert base != split_fingerprint([["a", "b"]], [["O", "B-LOC"]])


def record(lang: str, f1: float, fertility: float, confusion=None) -> Result:
    errors = error_analysis([["B-PER", "O"]], [["B-ORG", "O"]], TYPES)
    if confusion is not None:
        errors = errors | {"confusion": confusion}
    factors = {"words": 10, "fertility": fertility, "split_share": fertility / 4,
               "truncated_share": 0.0, "truncated_words": 0, "max_length": 512,
               "entity_types": {"counts": {"PER": 1}, "shares": {"PER": 1.0}}}  # fmt: skip
    return make_result(f1, eval_lang=lang, study="s", errors=errors, factors=factors)


def test_spearman_across_targets_excludes_the_training_language():
    results = [record("de", 0.99, 5.0)] + [
        record(lang, f1, fertility)
        for lang, f1, fertility in [("fr", 0.8, 1.2), ("it", 0.7, 1.5), ("en", 0.6, 1.9),
                                    ("es", 0.5, 2.4)]
    ]  # fmt: skip
    group = [((r.study, r.strategy, r.config, r.eval_lang), [r]) for r in results]
    (found,) = correlations(group).values()
    rho, p, targets = found["subwords/word"]
    assert (rho, targets) == (pytest.approx(-1.0), 4)  # de (5.0, 0.99) would break the ranking
    assert p < 0.05
    assert found["truncated"][0] != found["truncated"][0], "constant: no rho"
    text = factor_tables(results)
    assert "subwords/word -1.00 (p = 0.000)" in text and "truncated constant" in text
    assert "| zero-shot" not in error_tables(results) and "wrong type" in error_tables(results)


@pytest.mark.parametrize("langs", [4, 40])
def test_errors_png_draws_one_heatmap_per_language(tmp_path, langs):
    results = [
        record(f"l{k:02d}", 0.5, 1.5, {"PER": {"PER": 3 + k, "ORG": 1}, "spurious": {"LOC": 2}})
        for k in range(langs)
    ]
    results.append(dataclasses.replace(results[0], config="fr", train_langs=["fr"]))
    path = plot_errors(results, tmp_path / "errors.png")
    from matplotlib.image import imread

    height, width = imread(path).shape[:2]
    assert (width, height) < (2400, 1600) and width > 400  # at 40: 8 x 5 panels of ~200 px
