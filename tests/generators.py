"""Hypothesis strategies for PAN-X-shaped inputs: words of every kind, tags, sentences, batches."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from xner.spec.labels import TAGS  # noqa: E402

N_TAGS = len(TAGS)  # O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC

ZERO_WIDTH = (
    "\u200b"  # zero width space
    "\u200c"  # zero width non-joiner
    "\u200d"  # zero width joiner
    "\u2060"  # word joiner
    "\ufeff"  # zero width no-break space (BOM)
    "\u00ad"  # soft hyphen
    "\u180e"  # Mongolian vowel separator
    "\ufe0f"  # variation selector 16
)
# C0 and C1 controls, DEL; includes \t, \n, \r and U+0085 (NEL).
CONTROL = "".join(chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
COMBINING = "".join(chr(c) for c in range(0x0300, 0x0370)) + "\u0483\u093c\u20d0\u20e3"
SEPARATORS = " \u00a0\u2028\u2029\u0085\u3000\u1680\u2009"
EMOJI = (
    "🎉",
    "👩\u200d👩\u200d👧",
    "🇩🇪",
    "👍🏽",
    "❤\ufe0f",
    "🧑\u200d💻",
    "1\ufe0f\u20e3",
    "🏳️\u200d🌈",
)
# Words the tiny tokenizer's synthetic training text is made of, so that many words split into
# few, multi-character subwords rather than only into characters.
COMMON_WORDS = (
    "der", "die", "und", "le", "la", "il", "the", "of", "Herr", "Mme", "signor", "Mr.", "club",
    "in", "à", "Bad", "Saint", "San", "New", "AG", "GmbH", "S.p.A.", "Ltd", ",", ".", "(", ")",
    "Angela", "Merkel", "München", "Paris", "Roma", "ung", "tion", "zione",
)  # fmt: skip

tags = st.integers(min_value=0, max_value=N_TAGS - 1)

#: Any Unicode scalar value that UTF-8 (and so Arrow) can hold: every category but surrogates.
any_char = st.characters(codec="utf-8")

plain_words = st.one_of(
    st.sampled_from(COMMON_WORDS),
    st.text(string.ascii_letters + "äöüéèàß", min_size=1, max_size=12),
)
any_words = st.text(any_char, min_size=0, max_size=12)
#: Words the tokenizer may turn into no subword at all (or a lone "▁"): zero-width and
#: control characters only, and the empty string.
invisible_words = st.one_of(
    st.just(""),
    st.text(st.sampled_from(ZERO_WIDTH), min_size=1, max_size=4),
    st.text(st.sampled_from(CONTROL), min_size=1, max_size=4),
    st.text(st.sampled_from(ZERO_WIDTH + CONTROL), min_size=1, max_size=4),
)
combining_words = st.builds(
    lambda base, marks: base + marks,
    st.text(string.ascii_letters, max_size=3),
    st.text(st.sampled_from(COMBINING), min_size=1, max_size=5),
)
emoji_words = st.lists(st.sampled_from(EMOJI), min_size=1, max_size=3).map("".join)
separator_words = st.builds(
    lambda a, sep, b: a + sep + b,
    st.text(string.ascii_letters, max_size=4),
    st.text(st.sampled_from(SEPARATORS), min_size=1, max_size=3),
    st.text(string.ascii_letters, max_size=4),
)
long_words = st.one_of(
    st.text(any_char, min_size=40, max_size=300),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "é", "字", "🎉", "ab"]), st.integers(40, 400)
    ),
)

words = st.one_of(
    plain_words,
    any_words,
    invisible_words,
    combining_words,
    emoji_words,
    separator_words,
    long_words,
)


@st.composite
def sentences(draw, min_words: int = 1, max_words: int = 30, word=words):
    """One sentence: (words, tag ids) of equal length."""
    pairs = draw(st.lists(st.tuples(word, tags), min_size=min_words, max_size=max_words))
    return [w for w, _ in pairs], [t for _, t in pairs]


#: Sentences of any length PAN-X could have, sometimes with very many words.
any_sentences = st.one_of(
    sentences(),
    sentences(min_words=100, max_words=250, word=st.one_of(plain_words, invisible_words)),
)

#: Several sentences, as one `datasets.map` batch sees them.
batches = st.lists(any_sentences, min_size=1, max_size=6)

#: Truncation lengths: tiny ones that cut most sentences, moderate ones, and None (the
#: tokenizer's model_max_length).
max_lengths = st.one_of(st.none(), st.integers(4, 20), st.integers(21, 80))
