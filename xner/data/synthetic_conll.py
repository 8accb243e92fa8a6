"""Synthetic data in CoNLL-2003's layout, for the CPU study of any NER corpus (`conll_smoke`):
xner's synthetic sentences with a fourth entity type, MISC, written as CoNLL files (four
columns, `-DOCSTART-`, IOB1 tags) and read back through the same reader real corpora use.

MISC is chosen by the entity's first word (a hash, so the same word is always MISC): a rule a
model can learn, as it can learn that a word is a place.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from pathlib import Path

from xner.data.synthetic import DEFAULT_SIZES, synthetic_sentences
from xner.spec.corpus import FILE_NAMES
from xner.writer import write_atomic

Sentences = list[tuple[list[str], list[str]]]
# A CoNLL-2003 file is a file of documents: one -DOCSTART- per this many sentences.
SENTENCES_PER_DOCUMENT = 20


def with_misc(tags: list[str], tokens: list[str]) -> list[str]:
    """IOB2 `tags` with every entity whose first word hashes to 0 mod 4 retyped MISC."""
    out, kind = [], ""
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-"):
            kind = "MISC" if zlib.crc32(token.encode()) % 4 == 0 else tag[2:]
        out.append("O" if tag == "O" else f"{tag[:2]}{kind}")
    return out


def synthetic_conll_sentences(lang: str, split: str, n: int, seed: int = 0) -> Sentences:
    """`n` synthetic sentences of `lang` with PER, ORG, LOC and MISC, in IOB2."""
    return [
        (tokens, with_misc(tags, tokens))
        for tokens, tags in synthetic_sentences(lang, n, split, seed)
    ]


def write_synthetic_conll(
    directory: str | Path,
    lang: str,
    sizes: Mapping[str, int] = DEFAULT_SIZES,
    seed: int = 0,
) -> dict[str, Path]:
    """Write `lang`'s synthetic splits as CoNLL-2003-style IOB1 files (`train.txt`,
    `dev.txt`, `test.txt` in `directory/lang/`); returns split -> path."""
    from xner.data.conll import conll_text

    folder = Path(directory) / lang
    paths = {}
    for split, n in sizes.items():
        sentences = synthetic_conll_sentences(lang, split, n, seed)
        path = folder / f"{FILE_NAMES[split]}.txt"
        # Documents: each chunk of sentences after its own -DOCSTART- line.
        parts = [
            conll_text(
                sentences[start : start + SENTENCES_PER_DOCUMENT], "iob1",
                columns=("NN", "I-NP"), docstart=True, where=str(path),
            )
            for start in range(0, len(sentences), SENTENCES_PER_DOCUMENT)
        ]  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
        paths[split] = write_atomic(path, "".join(parts))
    return paths
