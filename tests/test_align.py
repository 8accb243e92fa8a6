"""Word-to-subword label alignment: hand-written cases and properties over arbitrary words.

The property tests compare `xner.data.align` against two references computed here:
- the tokenizer's own `word_ids()` on the same input, turned into labels by this file's code;
- a per-word oracle: every word tokenized on its own. For the tiny tokenizer (Metaspace with
  prepend_scheme="always", so every word is pre-tokenized and normalized on its own) the
  concatenation of those pieces is exactly the in-context tokenization; the oracle tests check
  that precondition on every example before relying on it.
"""

from __future__ import annotations

import copy
import logging
import unicodedata

import datasets
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tokenizers import Regex, normalizers

from tests.generators import (
    any_sentences,
    batches,
    invisible_words,
    max_lengths,
    plain_words,
    sentences,
    tags,
)
from xner.data.align import LabelLoss, align_labels, encode, encode_counting_loss
from xner.data.conll import read_conll
from xner.data.panx import FEATURES, load_panx, write_xtreme
from xner.spec.labels import IGNORE, TAGS  # noqa: E402 - every non-first subword and every special token
from xner.training.model import load_tokenizer
from xner.training.tiny import MAX_LENGTH as MODEL_MAX_LENGTH  # noqa: E402 - xner.training.tiny's tokenizer

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release

# --- helpers -------------------------------------------------------------------------------


def as_dataset(batch) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {
            "tokens": [list(words) for words, _ in batch],
            "ner_tags": [list(tag_ids) for _, tag_ids in batch],
            "langs": [["de"] * len(words) for words, _ in batch],
        },
        features=FEATURES,
    )


def encode_batch(tokenizer, batch, max_length):
    return encode_counting_loss(
        datasets.DatasetDict({"train": as_dataset(batch)}), tokenizer, max_length
    )


def labels_from_word_ids(word_ids, tag_ids) -> list[int]:
    """Reference labels: the first position of each word id carries the word's tag."""
    labels = [IGNORE] * len(word_ids)
    seen = set()
    for position, word in enumerate(word_ids):
        if word is not None and word not in seen:
            seen.add(word)
            labels[position] = tag_ids[word]
    return labels


def per_word_pieces(tokenizer, words) -> list[list[int]]:
    return [tokenizer(word, add_special_tokens=False)["input_ids"] for word in words]


def oracle(tokenizer, words, tag_ids, max_length):
    """Expected (input_ids, labels, kept word indices) from each word tokenized on its own.

    The encoding is <s>, the words' pieces in order, </s>; truncation keeps the first
    `max_length - 2` pieces. A word keeps a label iff it has a piece and its first piece lies
    within those.
    """
    limit = max_length or MODEL_MAX_LENGTH
    pieces = per_word_pieces(tokenizer, words)
    content = [i for p in pieces for i in p][: limit - 2]
    input_ids = [tokenizer.bos_token_id, *content, tokenizer.eos_token_id]
    labels = [IGNORE] * len(input_ids)
    kept = []
    position = 1  # after <s>
    for index, (piece, tag) in enumerate(zip(pieces, tag_ids, strict=True)):
        if piece and position < len(input_ids) - 1:
            labels[position] = tag
            kept.append(index)
        position += len(piece)
    return input_ids, labels, kept


# --- align_labels on hand-written word_ids -------------------------------------------------


def test_align_labels_tags_first_subword_only():
    # <s> w0 w0 w1 w2 w2 w2 </s>
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    assert align_labels(word_ids, [1, 2, 5]) == [IGNORE, 1, IGNORE, 2, 5, IGNORE, IGNORE, IGNORE]


def test_align_labels_word_without_subword_does_not_shift_later_tags():
    # Word 1 vanished in the tokenizer: word 2 must keep its own tag (6), not word 1's (4).
    word_ids = [None, 0, 2, 2, 3, None]
    assert align_labels(word_ids, [3, 4, 6, 0]) == [IGNORE, 3, 6, IGNORE, 0, IGNORE]


def test_align_labels_consecutive_vanished_words():
    word_ids = [None, 3, None]
    assert align_labels(word_ids, [1, 2, 3, 4]) == [IGNORE, 4, IGNORE]


def test_align_labels_truncated_words_get_no_label():
    # Words 2 and 3 were cut off; word 1 lost its second subword to truncation.
    word_ids = [None, 0, 1, None]
    assert align_labels(word_ids, [1, 2, 3, 4]) == [IGNORE, 1, 2, IGNORE]


def test_align_labels_same_tag_on_adjacent_words_is_kept_per_word():
    # Two single-subword words with equal tags are two labelled positions, not one.
    word_ids = [None, 0, 1, 1, None]
    assert align_labels(word_ids, [2, 2]) == [IGNORE, 2, 2, IGNORE, IGNORE]


def test_align_labels_only_special_tokens():
    assert align_labels([None, None], [1, 2]) == [IGNORE, IGNORE]
    assert align_labels([], []) == []


# --- encode on hand-written sentences ------------------------------------------------------


# The tiny tokenizer's vocabulary follows the synthetic data, so these examples state their
# expectations in terms of each word's piece count (checked by the oracle test below) rather
# than in terms of particular pieces.


def piece_counts(tokenizer, words) -> list[int]:
    return [len(p) for p in per_word_pieces(tokenizer, words)]


def test_encode_control_only_word_vanishes_without_shifting_labels(tokenizer):
    words, tag_ids = ["Paris", "\x01\x02", "Roma"], [5, 2, 6]
    n_paris, n_control, n_roma = piece_counts(tokenizer, words)
    assert (n_control, n_paris > 0, n_roma > 0) == (0, True, True)  # precondition
    (encoded, losses) = encode_batch(tokenizer, [(words, tag_ids)], None)
    # <s> | Paris's pieces | Roma's pieces | </s>: Roma's first piece carries 6, not 2.
    expected = [IGNORE] * (2 + n_paris + n_roma)
    expected[1] = 5
    expected[1 + n_paris] = 6
    assert encoded["train"][0]["labels"] == expected
    assert losses["train"] == LabelLoss(words=3, truncated=0, no_subword=1)


def test_encode_truncation_hand_example(tokenizer):
    words, tag_ids = ["Paris", "Roma", "Wien", "Bern"], [5, 6, 1, 2]
    n_paris, n_roma, _, _ = piece_counts(tokenizer, words)
    # Room for all of Paris and the first piece of Roma; Wien and Bern are cut off.
    max_length = 2 + n_paris + 1
    (encoded, losses) = encode_batch(tokenizer, [(words, tag_ids)], max_length)
    assert encoded["train"][0]["labels"] == [IGNORE, 5] + [IGNORE] * (n_paris - 1) + [6, IGNORE]
    assert losses["train"] == LabelLoss(words=4, truncated=2, no_subword=0)


def test_encode_word_split_by_truncation_keeps_its_label(tokenizer):
    words = ["Qxzvjwkqxzvj", "b"]
    assert piece_counts(tokenizer, words)[0] >= 2  # precondition
    # max_length 3 leaves one position: the first piece of the first word, with its tag.
    (encoded, losses) = encode_batch(tokenizer, [(words, [3, 4])], 3)
    assert encoded["train"][0]["labels"] == [IGNORE, 3, IGNORE]
    assert losses["train"] == LabelLoss(words=2, truncated=1, no_subword=0)


def test_encode_leaves_only_model_columns_in_every_split(tokenizer):
    ds = as_dataset([(["Paris"], [5]), (["der", "Herr"], [0, 0])])
    dd = datasets.DatasetDict({"train": ds, "validation": ds.select([1]), "test": ds.select([0])})
    encoded = encode(dd, tokenizer, max_length=16)
    assert set(encoded) == {"train", "validation", "test"}
    for split in encoded.values():
        assert sorted(split.column_names) == ["attention_mask", "input_ids", "labels"]
    assert encoded.num_rows == {"train": 2, "validation": 1, "test": 1}


def test_encode_counts_losses_per_split(tokenizer):
    words = ["Paris", "Roma", "Wien", "Bern"]
    max_length = 2 + sum(piece_counts(tokenizer, words[:2]))  # Wien and Bern are cut off
    train = as_dataset([(["a", "\x01"], [1, 2])])  # one vanished word
    test = as_dataset([(words, [1, 2, 3, 4])])
    _, losses = encode_counting_loss(
        datasets.DatasetDict({"train": train, "test": test}), tokenizer, max_length=max_length
    )
    assert losses == {
        "train": LabelLoss(words=2, truncated=0, no_subword=1),
        "test": LabelLoss(words=4, truncated=2, no_subword=0),
    }
    assert losses["test"].total == 2


def test_encode_warns_only_when_words_lose_labels(tokenizer, caplog):
    words = ["Paris", "Roma", "Wien", "Bern"]
    max_length = 2 + sum(piece_counts(tokenizer, words[:2]))
    with caplog.at_level(logging.WARNING, logger="xner.data.align"):
        encode_batch(tokenizer, [(words, [1, 2, 3, 4])], None)
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="xner.data.align"):
        encode_batch(tokenizer, [(words, [1, 2, 3, 4])], max_length)
    assert len(caplog.records) == 1
    assert "2 of 4 words" in caplog.text


def test_encode_default_max_length_is_the_tokenizers(tokenizer):
    (n,) = piece_counts(tokenizer, ["Paris"])
    words = ["Paris"] * (600 // n + 1)  # more pieces than 510 content positions
    (encoded, losses) = encode_batch(tokenizer, [(words, [5] * len(words))], None)
    assert len(encoded["train"][0]["input_ids"]) == MODEL_MAX_LENGTH
    # Word i starts at content position i * n: the words starting below 510 keep a label.
    kept = -(-510 // n)
    assert losses["train"] == LabelLoss(words=len(words), truncated=len(words) - kept, no_subword=0)


def test_encode_without_a_known_max_length_raises(tokenizer, monkeypatch):
    monkeypatch.setattr(tokenizer, "model_max_length", int(1e30))
    with pytest.raises(ValueError, match="max_length"):
        encode_batch(tokenizer, [(["a"], [1])], None)


# --- properties ----------------------------------------------------------------------------


@given(sentence=any_sentences)
def test_per_word_oracle_is_valid_for_the_tiny_tokenizer(tokenizer, sentence):
    """Precondition of the oracle: in-context pieces == each word's own pieces, in order."""
    words, _ = sentence
    in_context = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    assert in_context["input_ids"] == [i for p in per_word_pieces(tokenizer, words) for i in p]
    word_ids = in_context.word_ids()
    counts = [len(p) for p in per_word_pieces(tokenizer, words)]
    assert [word_ids.count(i) for i in range(len(words))] == counts


@given(batch=batches, max_length=max_lengths)
def test_each_kept_word_labels_exactly_its_first_subword(tokenizer, batch, max_length):
    (encoded, losses) = encode_batch(tokenizer, batch, max_length)
    rows = encoded["train"]
    assert sorted(rows.column_names) == ["attention_mask", "input_ids", "labels"]
    assert rows.num_rows == len(batch)
    limit = max_length or MODEL_MAX_LENGTH
    expected_truncated = expected_no_subword = 0
    for row, (words, tag_ids) in zip(rows, batch, strict=True):
        labels = row["labels"]
        assert len(labels) == len(row["input_ids"]) == len(row["attention_mask"]) <= limit

        # Reference 1: the tokenizer's own word_ids on the same input.
        reference = tokenizer(words, is_split_into_words=True, truncation=True, max_length=limit)
        assert row["input_ids"] == reference["input_ids"]
        assert labels == labels_from_word_ids(reference.word_ids(), tag_ids)

        # Reference 2: the per-word oracle, independent of word_ids.
        oracle_ids, oracle_labels, kept = oracle(tokenizer, words, tag_ids, max_length)
        assert row["input_ids"] == oracle_ids, "oracle precondition failed, not an xner bug"
        assert labels == oracle_labels

        # Reading the labels back gives the tags of exactly the words that kept a subword.
        assert [label for label in labels if label != IGNORE] == [tag_ids[i] for i in kept]
        assert labels[0] == labels[-1] == IGNORE  # <s> and </s>

        counts = [len(p) for p in per_word_pieces(tokenizer, words)]
        expected_no_subword += sum(1 for n in counts if n == 0)
        expected_truncated += sum(1 for i, n in enumerate(counts) if n and i not in kept)

    n_words = sum(len(words) for words, _ in batch)
    n_labelled = sum(1 for row in rows for label in row["labels"] if label != IGNORE)
    loss = losses["train"]
    assert loss.words == n_words
    assert loss.truncated + loss.no_subword == loss.total == n_words - n_labelled
    assert (loss.truncated, loss.no_subword) == (expected_truncated, expected_no_subword)


@given(
    batch=st.lists(sentences(min_words=3, max_words=40, word=plain_words), min_size=1, max_size=4),
    max_length=st.integers(4, 20),
)
def test_truncation_never_moves_a_label_to_another_word(tokenizer, batch, max_length):
    (encoded, losses) = encode_batch(tokenizer, batch, max_length)
    assume(losses["train"].truncated > 0)
    for row, (words, tag_ids) in zip(encoded["train"], batch, strict=True):
        reference = tokenizer(
            words, is_split_into_words=True, truncation=True, max_length=max_length
        )
        word_ids = reference.word_ids()
        for position, label in enumerate(row["labels"]):
            word = word_ids[position]
            if label != IGNORE:
                # the position belongs to a word, is that word's first, and has its tag
                assert word is not None
                assert word_ids.index(word) == position
                assert label == tag_ids[word]
        _, oracle_labels, _ = oracle(tokenizer, words, tag_ids, max_length)
        assert row["labels"] == oracle_labels


@st.composite
def sentences_with_invisible_words(draw):
    """Visible words with zero-width/control-only words inserted anywhere."""
    visible = draw(st.lists(st.tuples(plain_words, tags), min_size=1, max_size=15))
    pairs = list(visible)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(pairs)))
        pairs.insert(at, (draw(invisible_words), draw(tags)))
    return [w for w, _ in pairs], [t for _, t in pairs]


@given(sentence=sentences_with_invisible_words())
def test_invisible_words_do_not_shift_later_labels(tokenizer, sentence):
    words, tag_ids = sentence
    (encoded, losses) = encode_batch(tokenizer, [sentence], None)
    labels = encoded["train"][0]["labels"]
    counts = [len(p) for p in per_word_pieces(tokenizer, words)]
    # Every word with a piece keeps its own tag, in order; vanished words are simply skipped.
    assert [lab for lab in labels if lab != IGNORE] == [
        tag for tag, n in zip(tag_ids, counts, strict=True) if n
    ]
    _, oracle_labels, _ = oracle(tokenizer, words, tag_ids, None)
    assert labels == oracle_labels
    assert losses["train"] == LabelLoss(
        words=len(words), truncated=0, no_subword=sum(1 for n in counts if n == 0)
    )


# One map() call per sentence makes this the slowest property: half the profile's examples.
@settings(max_examples=max(settings.default.max_examples // 2, 1))
@given(batch=batches, max_length=max_lengths)
def test_batched_and_one_at_a_time_encoding_agree(tokenizer, batch, max_length):
    dataset = as_dataset(batch)
    (together, together_loss) = encode_counting_loss(
        datasets.DatasetDict({"all": dataset}), tokenizer, max_length
    )
    # One split per sentence: every map() batch holds exactly one sentence.
    (singles, single_losses) = encode_counting_loss(
        datasets.DatasetDict({f"s{i}": dataset.select([i]) for i in range(len(batch))}),
        tokenizer,
        max_length,
    )
    together_rows = together["all"].to_list()
    for i in range(len(batch)):
        assert singles[f"s{i}"].to_list() == [together_rows[i]]
    assert together_loss["all"] == LabelLoss(
        words=sum(loss.words for loss in single_losses.values()),
        truncated=sum(loss.truncated for loss in single_losses.values()),
        no_subword=sum(loss.no_subword for loss in single_losses.values()),
    )
    # encode() is encode_counting_loss() without the counts.
    plain = encode(datasets.DatasetDict({"all": dataset}), tokenizer, max_length)
    assert plain["all"].to_list() == together_rows


# --- scripts without spaces, right-to-left scripts -----------------------------------------

RLM, LRM, ZWNJ, ZWJ = "\u200f", "\u200e", "\u200c", "\u200d"  # bidi marks, (non-)joiners


def chars(text: str, tags: str) -> tuple[list[str], list[str]]:
    """A sentence cut into characters, as PAN-X cuts Japanese and Chinese; `tags` per char."""
    assert len(text) == len(tags.split()), text
    return list(text), tags.split()


def words(*pairs: str) -> tuple[list[str], list[str]]:
    """A sentence from "word TAG" pairs (the word may hold marks but no space)."""
    return [p.rsplit(" ", 1)[0] for p in pairs], [p.rsplit(" ", 1)[1] for p in pairs]


# Hand-written sentences, each with entities; Japanese and Chinese one character a token, Thai
# words without spaces between them, and right-to-left text with the marks real text carries:
# RLM/LRM around numbers and Latin, ZWNJ inside Persian and Urdu words, harakat and niqqud,
# and tokens made of a mark alone.
SCRIPTS = {
    "ja": [
        chars("東京都に住む山田太郎", "B-LOC I-LOC I-LOC O O O B-PER I-PER I-PER I-PER"),
        chars(
            "トヨタ自動車は愛知県にある。",
            "B-ORG I-ORG I-ORG I-ORG I-ORG I-ORG O B-LOC I-LOC I-LOC O O O O",
        ),
        # Full-width Latin (NFKC makes it ASCII) and 𠮷, outside the Basic Multilingual Plane.
        chars("ＮＨＫで𠮷野家を見た", "B-ORG I-ORG I-ORG O B-ORG I-ORG I-ORG O O O"),
    ],
    "zh": [
        chars("李白出生于碎叶城。", "B-PER I-PER O O O B-LOC I-LOC I-LOC O"),
        chars("北京大学位于海淀区", "B-ORG I-ORG I-ORG I-ORG O O B-LOC I-LOC I-LOC"),
    ],
    "th": [
        words("กรุงเทพมหานคร B-LOC", "เป็น O", "เมืองหลวง O", "ของ O", "ประเทศไทย B-LOC"),
        words("ทักษิณ B-PER", "ชินวัตร I-PER", "ก่อตั้ง O", "พรรคไทยรักไทย B-ORG"),
    ],
    "ar": [
        words("ولد O", "نجيب B-PER", "محفوظ I-PER", "في O", f"القاهرة{RLM} B-LOC", ". O"),
        words("تعمل O", "شركة O", f"{RLM} O", f"{LRM}IBM{LRM} B-ORG", "في O", "دبي B-LOC"),
        words("مُحَمَّد B-PER", "عَلِيّ I-PER", f"{RLM} O", "١٩٤٥ O"),
    ],
    "he": [
        words("דוד B-PER", "בן-גוריון I-PER", "נולד O", "בפולין B-LOC"),
        words("האוניברסיטה B-ORG", "העברית I-ORG", "נוסדה O", f"ב־{LRM}1918 O"),
        words(f"{RLM} O", "יְרוּשָׁלַיִם B-LOC", "בירת O", "ישראל B-LOC"),
    ],
    "fa": [
        words(f"محمد{ZWNJ}رضا B-PER", "شجریان I-PER", "در O", "تهران B-LOC", f"می{ZWNJ}زیست O"),
        words("دانشگاه B-ORG", "تهران I-ORG", f"بزرگ{ZWNJ}ترین O", "دانشگاه O", "ایران B-LOC"),
        words(f"{ZWNJ} O", "این O", "کتاب O", "در O", "اصفهان B-LOC", "است O", f"{RLM}. O"),
    ],
    "ur": [
        words("محمد B-PER", "اقبال I-PER", "سیالکوٹ B-LOC", "میں O", "پیدا O", "ہوئے O", "۔ O"),
        words("جامعہ B-ORG", "پنجاب I-ORG", f"{RLM} O", "لاہور B-LOC", "میں O", "ہے O"),
        words("کراچی B-LOC", f"ٹیلی{ZWNJ}ویژن O", "مرکز O", f"ہ{ZWJ} O"),
    ],
}
NO_SPACES, RIGHT_TO_LEFT = ("ja", "zh", "th"), ("ar", "he", "fa", "ur")
TAG_NAMES = TAGS  # xner's tag order (test_the_tag_order_is_the_reports checks it)
INVISIBLE = "[\u200b-\u200f\u2060\ufeff]"  # zero-width spaces, (non-)joiners, bidi marks


def script_panx(lang: str) -> datasets.DatasetDict:
    """The language's sentences as PAN-X splits (train all, validation reversed, test one)."""
    rows = SCRIPTS[lang]
    columns = {
        split: {
            "tokens": [list(tokens) for tokens, _ in sentences],
            "ner_tags": [[TAG_NAMES.index(t) for t in tags] for _, tags in sentences],
            "langs": [[lang] * len(tokens) for tokens, _ in sentences],
        }
        for split, sentences in (("train", rows), ("validation", rows[::-1]), ("test", rows[:1]))
    }
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_dict(c, features=FEATURES) for split, c in columns.items()}
    )


def entity_spans(tag_ids) -> list[tuple[str, int, int]]:
    """IOB2 entities as (type, first word, last word)."""
    spans = []
    for i, tag in enumerate(TAG_NAMES[t] for t in tag_ids):
        if tag.startswith("B-"):
            spans.append((tag[2:], i, i))
        elif tag.startswith("I-"):
            assert spans and spans[-1][0] == tag[2:] and spans[-1][2] == i - 1, "not IOB2"
            spans[-1] = (tag[2:], spans[-1][1], i)
    return spans


def has_letter_or_digit(word: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in word)


@pytest.fixture(scope="module", autouse=True)
def _datasets_cache_in_tmp(tmp_path_factory):
    """Keep load_dataset("parquet")'s Arrow cache of the tests' files out of ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf-cache"))
        yield


@pytest.fixture(scope="module")
def script_tokenizers(tokenizer):
    """The tiny tokenizer, the xlmr-base-random one, and the tiny one with a normalizer that
    deletes zero-width and bidi characters outright (as a SentencePiece charsmap may), so that
    a token made of them alone has no subword at all."""
    dropping = copy.deepcopy(tokenizer)
    backend = dropping.backend_tokenizer
    backend.normalizer = normalizers.Sequence(
        [normalizers.Replace(Regex(INVISIBLE), ""), backend.normalizer]
    )
    return {
        "tiny": tokenizer,
        "xlmr-base-random": load_tokenizer("xlmr-base-random"),
        "tiny-dropping-invisibles": dropping,
    }


def test_script_sentences_are_iob2_with_entities():
    assert set(SCRIPTS) == {*NO_SPACES, *RIGHT_TO_LEFT}
    for lang, rows in SCRIPTS.items():
        for tokens, tag_names in rows:
            assert len(tokens) == len(tag_names) and all(tokens), lang
            assert entity_spans([TAG_NAMES.index(t) for t in tag_names]), (lang, tokens)
            assert not any(c in token for token in tokens for c in " \t\n\r"), lang
        if lang in RIGHT_TO_LEFT:  # a token of marks alone, there to vanish, before an entity
            assert any(
                not has_letter_or_digit(tokens[i]) and any(t != "O" for t in tag_names[i:])
                for tokens, tag_names in rows
                for i in range(len(tokens))
            ), lang


@pytest.mark.parametrize("layout", ["plain", "raw", "wikiann-parquet"])
@pytest.mark.parametrize("lang", list(SCRIPTS))
def test_scripts_round_trip_through_files(tmp_path, lang, layout):
    dd = script_panx(lang)
    if layout == "wikiann-parquet":  # unimelb-nlp/wikiann's layout: <lang>/<split>-*.parquet
        for split, ds in dd.items():
            ds.to_parquet(str(tmp_path / lang / f"{split}-00000-of-00001.parquet"))
    else:
        write_xtreme(dd, tmp_path, lang, raw=layout == "raw")
        path = tmp_path / f"train-{lang}.tsv"
        lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line]
        assert [line.startswith(f"{lang}:") for line in lines] == [layout == "raw"] * len(lines)
        # Every character, marks included, is in the file as written.
        expected = [f"{lang}:{t}" if layout == "raw" else t for s, _ in SCRIPTS[lang] for t in s]
        assert [line.split("\t")[0] for line in lines] == expected
        read = read_conll(path, tabs_only=True, lang_prefix=f"{lang}:").sentences
        assert read == [(s, list(tags)) for s, tags in SCRIPTS[lang]]
    back = load_panx(lang, tmp_path)
    for split in ("train", "validation", "test"):
        assert back[split].features == FEATURES
        assert back[split].to_dict() == dd[split].to_dict(), split


@pytest.mark.parametrize("name", ["tiny", "xlmr-base-random", "tiny-dropping-invisibles"])
@pytest.mark.parametrize("lang", list(SCRIPTS))
def test_scripts_align_every_word_to_its_own_tag(tmp_path, script_tokenizers, name, lang):
    tokenizer = script_tokenizers[name]
    write_xtreme(script_panx(lang), tmp_path, lang, raw=True)
    dd = load_panx(lang, tmp_path)
    encoded, losses = encode_counting_loss(dd, tokenizer)
    for split in dd:
        vanished = 0
        source = zip(dd[split]["tokens"], dd[split]["ner_tags"], strict=True)
        for row, (words_, tag_ids) in zip(encoded[split], source, strict=True):
            pieces = per_word_pieces(tokenizer, words_)
            in_context = tokenizer(words_, is_split_into_words=True, add_special_tokens=False)
            assert in_context["input_ids"] == [i for p in pieces for i in p], "oracle precondition"
            reference = tokenizer(words_, is_split_into_words=True)
            assert row["input_ids"] == reference["input_ids"]
            assert row["labels"] == labels_from_word_ids(reference.word_ids(), tag_ids)
            _, oracle_labels, kept = oracle(tokenizer, words_, tag_ids, None)
            assert row["labels"] == oracle_labels
            # Reading the labels back: the tags of exactly the words that have a subword, in
            # order; a vanished word takes nobody's tag and gives nobody its own.
            assert [lab for lab in row["labels"] if lab != IGNORE] == [tag_ids[i] for i in kept]
            # Every word with a letter or digit keeps its tag, so every entity survives whole.
            assert [i for i, w in enumerate(words_) if has_letter_or_digit(w)] == [
                i for i in kept if has_letter_or_digit(words_[i])
            ]
            back = dict(zip(kept, (lab for lab in row["labels"] if lab != IGNORE), strict=True))
            recovered = [back.get(i, 0) for i in range(len(words_))]
            assert entity_spans(recovered) == entity_spans(tag_ids)
            vanished += len(words_) - len(kept)
        words_in_split = sum(len(t) for t in dd[split]["tokens"])
        assert losses[split] == LabelLoss(words=words_in_split, truncated=0, no_subword=vanished)
        if name == "tiny-dropping-invisibles" and lang in RIGHT_TO_LEFT and split == "train":
            assert vanished > 0  # precondition: the mark-only tokens did vanish


def test_the_tag_order_is_the_reports():
    """The one place the report's tag order is written out in the tests: every other test
    takes xner.spec.labels.TAGS, and the label ids of every saved model depend on this order."""
    assert TAGS == ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
    assert IGNORE == -100  # the label PyTorch's cross-entropy ignores by default
