"""Synthetic PAN-X: deterministic, in PAN-X's exact schema, valid IOB2, names shared."""

from __future__ import annotations

import pytest

from xner.data.panx import FEATURES, synthetic_panx
from xner.data.synthetic import LANGS, synthetic_sentences
from xner.spec.labels import TAGS

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release
SIZES = {"train": 300, "validation": 100, "test": 100}


@pytest.fixture(scope="module")
def panx():
    return {lang: synthetic_panx(lang, SIZES, seed=0) for lang in LANGS}


def iob2_errors(tags: list[str]) -> list[str]:
    """Positions where an I-X follows O, the sentence start, or a tag of another type."""
    errors = []
    previous = "O"
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            errors.append(f"{i}: {previous} -> {tag}")
        previous = tag
    return errors


def entity_words(dd, kinds=("PER", "ORG", "LOC")) -> set[str]:
    words = set()
    for split in dd.values():
        columns = split[:]
        for tokens, tags in zip(columns["tokens"], columns["ner_tags"], strict=True):
            words.update(tok for tok, t in zip(tokens, tags, strict=True) if TAGS[t][2:] in kinds)
    return words


def test_all_four_languages():
    assert set(LANGS) == {"de", "fr", "it", "en"}


def test_exact_panx_features_and_sizes(panx):
    for lang, dd in panx.items():
        assert sorted(dd) == ["test", "train", "validation"]
        for split, ds in dd.items():
            assert ds.features == FEATURES
            assert ds.num_rows == SIZES[split]
            columns = ds[:]
            for tokens, tags, langs in zip(
                columns["tokens"], columns["ner_tags"], columns["langs"], strict=True
            ):
                assert len(tokens) == len(tags) == len(langs) > 0
                assert langs == [lang] * len(tokens)
                assert all(isinstance(t, str) and t and "\t" not in t for t in tokens)
                assert all(0 <= t < 7 for t in tags)


def test_only_requested_splits():
    dd = synthetic_panx("en", {"train": 5})
    assert list(dd) == ["train"]
    assert dd["train"].num_rows == 5


def test_tags_are_valid_iob2(panx):
    for lang, dd in panx.items():
        for split, ds in dd.items():
            for row, tags in enumerate(ds[:]["ner_tags"]):
                assert iob2_errors([TAGS[t] for t in tags]) == [], (lang, split, row)


def test_every_entity_type_occurs(panx):
    for lang, dd in panx.items():
        tags = {TAGS[t] for row in dd["train"][:]["ner_tags"] for t in row}
        assert tags == set(TAGS), lang


def test_same_seed_same_rows(panx):
    again = synthetic_panx("fr", SIZES, seed=0)
    for split in SIZES:
        assert again[split].to_dict() == panx["fr"][split].to_dict()
    assert list(synthetic_sentences("it", 20, "test", seed=5)) == list(
        synthetic_sentences("it", 20, "test", seed=5)
    )


def test_different_seed_different_rows(panx):
    other = synthetic_panx("fr", SIZES, seed=1)
    for split in SIZES:
        assert other[split]["tokens"] != panx["fr"][split]["tokens"]


def test_splits_and_languages_differ(panx):
    assert panx["de"]["train"][:50]["tokens"] != panx["de"]["test"][:50]["tokens"]
    assert panx["de"]["train"][:50]["tokens"] != panx["fr"]["train"][:50]["tokens"]


def test_a_larger_split_extends_a_smaller_one():
    # Same seed and split: the first rows do not depend on how many are asked for.
    small = list(synthetic_sentences("de", 10, "train", seed=0))
    large = list(synthetic_sentences("de", 30, "train", seed=0))
    assert large[:10] == small


def test_entity_names_are_shared_across_languages(panx):
    de, fr = entity_words(panx["de"], ("PER",)), entity_words(panx["fr"], ("PER",))
    shared = de & fr
    # Person names are drawn from one pool: many, not one chance collision, appear in both.
    assert len(shared) >= 20, sorted(shared)
    # ...while the non-entity words are mostly the languages' own.
    other_de = {tok for row in panx["de"]["train"][:]["tokens"] for tok in row} - de
    other_fr = {tok for row in panx["fr"]["train"][:]["tokens"] for tok in row} - fr
    assert len(other_de & other_fr) < len(other_de) / 2


def test_unknown_language_raises():
    with pytest.raises(ValueError, match="'xx'"):
        synthetic_panx("xx", {"train": 3})
    with pytest.raises(ValueError, match="'es'"):
        list(synthetic_sentences("es", 3))
