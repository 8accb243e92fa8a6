"""Synthetic PAN-X: de/fr/it/en sentences in PAN-X's exact schema, deterministic by seed.

Made so that the study's shape shows on a CPU in seconds, and so that figures move when the
code does: entity names are shared across languages (what makes transfer possible) while
function words, cue words, content words and some name spellings are per language (what makes
it imperfect); surnames double as organisation and place names, half the entities have no cue,
German capitalises its nouns, the test split holds names training never saw, and a few
entities carry a wrong or missing tag, as PAN-X's silver labels do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping

from xner.spec.labels import ENTITY_TYPES, TAGS
from xner.spec.languages import SYNTHETIC_LANGS, SYNTHETIC_SIZES

LANGS = SYNTHETIC_LANGS
DEFAULT_SIZES: Mapping[str, int] = SYNTHETIC_SIZES
LABEL_NOISE = 0.02

FUNCTION_WORDS = {
    "de": "der die das und von mit für auf ist war ein eine im zum auch nicht".split(),
    "fr": "le la les et du avec pour sur est était un une au aux aussi pas".split(),
    "it": "il lo gli e del con per su è era un una al dei anche non".split(),
    "en": "the and of with for on is was a an at to also not by from".split(),
}
CUES = {
    "PER": {
        "de": "Herr Frau Präsident Trainer Sänger".split(),
        "fr": "M. Mme président entraîneur chanteur".split(),
        "it": "signor signora presidente allenatore cantante".split(),
        "en": "Mr. Mrs. president coach singer".split(),
    },
    "ORG": {
        "de": "Verein Firma Mitglied Partei".split(),
        "fr": "club société membre parti".split(),
        "it": "club società membro partito".split(),
        "en": "club company member party".split(),
    },
    "LOC": {
        "de": "in nach bei Stadt".split(),
        "fr": "à vers près ville".split(),
        "it": "a verso presso città".split(),
        "en": "in to near city".split(),
    },
}
ORG_SUFFIX = {"de": ["AG", "GmbH"], "fr": ["SA"], "it": ["S.p.A."], "en": ["Ltd", "Inc."]}
LOC_PREFIX = {"de": "Bad", "fr": "Saint", "it": "San", "en": "New"}
WORD_ENDINGS = {
    "de": "ung keit schaft er en lich heit stein".split(),
    "fr": "tion eau ment ier ette oir eur ique".split(),
    "it": "zione etto ino ara olo ente ia one".split(),
    "en": "ing tion er ly ness ship ful ed".split(),
}
# Content words come from each language's own syllables, names from shared ones.
CONTENT_SYLLABLES = {
    "de": "ge schl ber hau ein wer kal sto mit ach zu".split(),
    "fr": "mou ve pre cha lai gou ren voi dé pei ou".split(),
    "it": "gio lu pia cce sta vo rro gna tta bi sce".split(),
    "en": "wh th ough ea wr ck oo sh ai ow ly".split(),
}
_ONSETS = "b c d f g k l m n p r s t v z br tr st gr ch".split()
_VOWELS = "a e i o u a e i o ie".split()
_PUNCT = [",", ".", "(", ")", "-", "'"]


def _stem(rng: random.Random, syllables: tuple[int, int]) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(*syllables))
    )


class _Lexicon:
    """Name pools shared by every language, and each language's own content words."""

    def __init__(self, seed: int):
        rng = random.Random(f"xner-names-{seed}")
        # Pools small enough that names recur, as popular Wikipedia entities do in PAN-X.
        self.first = sorted({_stem(rng, (2, 3)).capitalize() for _ in range(60)})
        self.surnames = sorted({_stem(rng, (2, 3)).capitalize() for _ in range(150)})
        self.places = sorted({_stem(rng, (2, 3)).capitalize() for _ in range(120)})
        self.org_words = sorted({_stem(rng, (1, 2)).capitalize() for _ in range(80)})
        self.content = {
            lang: sorted(
                {
                    "".join(rng.choices(CONTENT_SYLLABLES[lang], k=rng.randint(1, 2)))
                    + rng.choice(WORD_ENDINGS[lang])
                    for _ in range(300)
                }
            )
            for lang in LANGS
        }

    @staticmethod
    def pool(names: list[str], split: str) -> list[str]:
        # The last tenth of each name pool appears only in the test split: unseen names.
        cut = len(names) * 9 // 10
        return names if split == "test" else names[:cut]


def _place_spelling(name: str, lang: str) -> str:
    # Place names drift between languages (München/Munich/Monaco): a cheap stand-in.
    if lang == "de":
        return name[:-1] + "en" if name[-1] in "aeiou" else name
    if lang == "fr":
        return name + "e" if name[-1] not in "aeiou" else name
    if lang == "it":
        return name + "a" if name[-1] not in "aeiou" else name
    return name


def _entity(rng: random.Random, lex: _Lexicon, kind: str, lang: str, split: str) -> list[str]:
    surnames = lex.pool(lex.surnames, split)
    if kind == "PER":
        words = [rng.choice(surnames)]
        if rng.random() < 0.7:
            words.insert(0, rng.choice(lex.pool(lex.first, split)))
        if rng.random() < 0.1:
            words.append(rng.choice(surnames))
        return words
    if kind == "ORG":
        # Organisations are often named after people: a surname with a legal suffix or not.
        source = surnames if rng.random() < 0.25 else lex.pool(lex.org_words, split)
        words = [rng.choice(source) for _ in range(rng.choice((1, 1, 2, 3)))]
        if rng.random() < 0.5:
            words.append(rng.choice(ORG_SUFFIX[lang]))
        return words
    source = surnames if rng.random() < 0.1 else lex.pool(lex.places, split)
    words = [_place_spelling(rng.choice(source), lang)]
    if rng.random() < 0.2:
        words.insert(0, LOC_PREFIX[lang])
    return words


def _filler(rng: random.Random, lex: _Lexicon, lang: str) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(FUNCTION_WORDS[lang])
    if roll < 0.9:
        word = rng.choice(lex.content[lang])
        return word.capitalize() if lang == "de" and rng.random() < 0.5 else word
    return rng.choice(_PUNCT)


def _sentence(
    rng: random.Random, lex: _Lexicon, lang: str, split: str
) -> tuple[list[str], list[str]]:
    tokens: list[str] = []
    tags: list[str] = []
    n_entities = rng.choice((0, 1, 1, 1, 2, 2, 3))
    for _ in range(n_entities):
        for _ in range(rng.randint(0, 4)):
            tokens.append(_filler(rng, lex, lang))
            tags.append("O")
        kind = rng.choice(("PER", "ORG", "LOC"))
        if rng.random() < 0.7:
            tokens.append(rng.choice(CUES[kind][lang]))
            tags.append("O")
        words = _entity(rng, lex, kind, lang, split)
        label = kind
        if rng.random() < LABEL_NOISE:  # silver-standard noise: wrong type or untagged
            label = rng.choice([k for k in ("PER", "ORG", "LOC", None) if k != kind])
        tokens.extend(words)
        tags.extend(
            ["O"] * len(words)
            if label is None
            else [f"B-{label}"] + [f"I-{label}"] * (len(words) - 1)
        )
    for _ in range(rng.randint(1 if n_entities == 0 else 0, 4)):
        tokens.append(_filler(rng, lex, lang))
        tags.append("O")
    if rng.random() < 0.3:  # sentence-initial capital blurs the capitalisation cue
        tokens[0] = tokens[0][:1].upper() + tokens[0][1:]
    return tokens, tags


def synthetic_sentences(
    lang: str, n: int, split: str = "train", seed: int = 0
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield `n` (tokens, tags) sentences of `lang`; the same arguments give the same ones."""
    if lang not in LANGS:
        raise ValueError(f"synthetic PAN-X has languages {LANGS}, not {lang!r}")
    lex = _lexicon(seed)
    rng = random.Random(f"xner-{seed}-{lang}-{split}")
    for _ in range(n):
        yield _sentence(rng, lex, lang, split)


_LEXICONS: dict[int, _Lexicon] = {}


def _lexicon(seed: int) -> _Lexicon:
    if seed not in _LEXICONS:
        _LEXICONS[seed] = _Lexicon(seed)
    return _LEXICONS[seed]


def tag_pairs(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """Tag sequences to measure scoring code on, not to train on: true tags like PAN-X's
    (4-20 words, an entity of 1-3 words in about one word in eight) and predictions with about
    one word in twenty replaced by a random tag (F1 near 0.8)."""
    rng = random.Random(seed)
    true = []
    for _ in range(n):
        words: list[str] = []
        length = rng.randint(4, 20)
        while len(words) < length:
            if rng.random() < 0.12:
                kind = rng.choice(ENTITY_TYPES)
                words += [f"B-{kind}"] + [f"I-{kind}"] * rng.randint(0, 2)
            else:
                words.append("O")
        true.append(words)
    pred = [[t if rng.random() > 0.05 else rng.choice(TAGS) for t in row] for row in true]
    return true, pred
