"""XLM-R base with random weights: its exact size, and a tokenizer with XLM-R's lengths."""

import hashlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import transformers

from xner.data.align import encode
from xner.data.panx import load_panx, synthetic_panx
from xner.spec.labels import IGNORE, TAGS
from xner.spec.recipe import XLMR_BASE_RANDOM, Recipe
from xner.training.model import load_tokenizer, new_model
from xner.training.realsize import xlmr_base_random_tokenizer
from xner.training.train import evaluate, finetune

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release

PANX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "panx"
# Mean input_ids per train sentence (with <s> and </s>) under XLM-R's own tokenizer, from
# ../shared/data/panx/README.md.
XLMR_MEAN_LENGTH = {"de": 17.8, "fr": 13.3, "it": 14.4, "en": 14.1}

# XLM-R base (xlm-roberta-base's config.json).
VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS, TYPES = 250_002, 768, 12, 12, 3072, 514, 1


def xlmr_base_parameters(labels: int) -> int:
    """XLM-R base's parameter count with a token-classification head, from the architecture.

    Embeddings: (250,002 words + 514 positions + 1 type) x 768, plus a LayerNorm (2 x 768)
    = 192,398,592. Each layer: Q, K, V and attention output, 4 x (768 x 768 + 768); the
    feed-forward, 768 x 3072 + 3072 + 3072 x 768 + 768; two LayerNorms, 4 x 768
    = 7,087,872, times 12 = 85,054,464. Encoder with embeddings: 277,453,056 (the token
    classifier has no pooler). Head: 768 x labels + labels.
    """
    embeddings = (VOCAB + POSITIONS + TYPES) * HIDDEN + 2 * HIDDEN
    layer = 4 * (HIDDEN * HIDDEN + HIDDEN) + (HIDDEN * FFN + FFN) + (FFN * HIDDEN + HIDDEN)
    layer += 2 * 2 * HIDDEN
    encoder = embeddings + LAYERS * layer
    assert encoder == 277_453_056
    return encoder + HIDDEN * labels + labels


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(XLMR_BASE_RANDOM)


def test_the_model_is_xlmr_base_whatever_vocab_size_is_passed():
    transformers.set_seed(0)
    model = new_model(XLMR_BASE_RANDOM, 10)
    assert type(model) is transformers.XLMRobertaForTokenClassification
    config = model.config
    assert (config.vocab_size, config.hidden_size, config.num_hidden_layers) == (VOCAB, 768, 12)
    assert (config.num_attention_heads, config.intermediate_size) == (HEADS, FFN)
    assert (config.max_position_embeddings, config.type_vocab_size) == (POSITIONS, TYPES)
    assert config.layer_norm_eps == 1e-5
    assert (config.bos_token_id, config.pad_token_id, config.eos_token_id) == (0, 1, 2)
    assert config.id2label == dict(enumerate(TAGS))
    assert config.label2id == {tag: i for i, tag in enumerate(TAGS)}
    assert tuple(model.get_input_embeddings().weight.shape) == (VOCAB, HIDDEN)
    assert len(model.roberta.encoder.layer) == LAYERS
    assert model.roberta.pooler is None
    assert tuple(model.classifier.weight.shape) == (len(TAGS), HIDDEN)
    assert sum(p.numel() for p in model.parameters()) == xlmr_base_parameters(len(TAGS))


def _vocab_digest(tokenizer) -> str:
    return hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest()


def test_the_tokenizer_is_the_same_in_every_build_and_process(tokenizer):
    again = xlmr_base_random_tokenizer.__wrapped__()  # a fresh build, past the cache
    assert again is not tokenizer and again.get_vocab() == tokenizer.get_vocab()
    words = ["Herr", "Loze", "war", "in", "Zusammenarbeit", "Москва", "l'été"]
    assert (
        again(words, is_split_into_words=True)["input_ids"]
        == tokenizer(words, is_split_into_words=True)["input_ids"]
    )
    # Another process with another hash seed: set iteration order must not leak into the ids.
    code = (
        "import hashlib, json\n"
        "from xner.training.realsize import xlmr_base_random_tokenizer\n"
        "vocab = sorted(xlmr_base_random_tokenizer().get_vocab().items())\n"
        "print(hashlib.sha256(json.dumps(vocab).encode()).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONHASHSEED": "12345"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == _vocab_digest(tokenizer)


def test_ids_are_xlmr_shaped(tokenizer):
    vocab = tokenizer.get_vocab()
    assert sorted(vocab.values()) == list(range(len(vocab)))
    assert max(vocab.values()) < VOCAB
    assert [vocab[t] for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    for char in ("a", "é", "ß", "ł", "ș", "λ", "Ж"):
        assert char in vocab and "\u2581" + char in vocab, char
    assert tokenizer.model_max_length == 512


def test_each_word_is_cut_into_chunks_of_four_that_map_back_to_it(tokenizer):
    words = ["Abcdefghi", "a", "Sankt", "Zusammenarbeit", "Москва", "(", "Ελλάδα", "l'été"]
    enc = tokenizer(words, is_split_into_words=True, truncation=True)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert (tokens[0], tokens[-1]) == ("<s>", "</s>")
    word_ids = enc.word_ids()
    assert word_ids[0] is None and word_ids[-1] is None
    inner = word_ids[1:-1]
    assert inner == sorted(inner)  # chunks in order, each word's contiguous
    for i, word in enumerate(words):
        # "▁" + the word, in chunks of at most four characters.
        assert inner.count(i) == -(-(len(word) + 1) // 4), word
    assert inner.count(0) == 3  # "▁Abcdefghi": 10 characters, chunks of 4, 4 and 2


def test_encode_gives_each_word_its_tag_once(tokenizer):
    data = synthetic_panx("fr", {"train": 40}, seed=5)
    encoded = encode(data, tokenizer)["train"]
    for row, tags in zip(encoded, data["train"]["ner_tags"], strict=True):
        # One labelled position per word, in order: every word got a first chunk.
        assert [label for label in row["labels"] if label != IGNORE] == list(tags)


@pytest.mark.parametrize("lang", sorted(XLMR_MEAN_LENGTH))
def test_lengths_on_real_panx_are_within_20_percent_of_xlmr(tokenizer, lang):
    if not (PANX / f"train-{lang}.tsv").is_file():
        pytest.skip(f"no real PAN-X at {PANX} (only in the project's shared checkout)")
    sentences = list(load_panx(lang, str(PANX))["train"]["tokens"])
    enc = tokenizer(sentences, is_split_into_words=True, truncation=True)
    mean = statistics.mean(len(ids) for ids in enc["input_ids"])
    assert abs(mean / XLMR_MEAN_LENGTH[lang] - 1) <= 0.20, (lang, mean)


def _entities(tags: list[str]) -> int:
    """Entities as conlleval counts them: a B- tag, or an I- tag that continues nothing."""
    count, previous = 0, "O"
    for tag in tags:
        if tag != "O" and (tag.startswith("B-") or previous[2:] != tag[2:]):
            count += 1
        previous = tag
    return count


def test_one_training_step_at_real_size(tokenizer):
    """One step of the project's own fine-tuning and scoring (about 5 GB of memory)."""
    data = synthetic_panx("de", {"train": 16, "validation": 8, "test": 8}, seed=3)
    encoded = encode(data, tokenizer)
    recipe = Recipe(epochs=1, batch_size=16)  # 16 sentences: a single optimiser step
    model = finetune(
        model_name=XLMR_BASE_RANDOM,
        tokenizer=tokenizer,
        train=encoded["train"],
        validation=encoded["validation"],
        recipe=recipe,
        seed=0,
        progress=False,
    )
    assert tuple(model.get_input_embeddings().weight.shape) == (VOCAB, HIDDEN)
    scores = evaluate(model, tokenizer, encoded["test"], recipe)
    assert all(0.0 <= s <= 1.0 for s in (scores.precision, scores.recall, scores.f1))
    expected = sum(_entities([TAGS[t] for t in tags]) for tags in data["test"]["ner_tags"])
    assert scores.support == expected > 0
