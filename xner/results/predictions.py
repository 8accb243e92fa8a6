"""A cell's test predictions as a CoNLL-style file, and the fingerprint of a test split.

One line per scored word, `token gold predicted` separated by single spaces, a blank line after
each sentence, and before each sentence a `# sent_id = N` line (CoNLL-U's comment) giving its
index in the test split, so that sentence N of two runs can be paired even where a sentence
lost every word (it is then its comment line alone). The words are those seqeval scored: the
first subword of each word that kept a labelled position after alignment (truncated words and
words the tokenizer turned into nothing are not there), so chunking the gold and predicted
columns gives the record's F1 exactly. conlleval.pl wants the same number of fields on every
line: `grep -v '^# sent_id = '` before it. A space or tab inside a token is written as `_`, an
empty token as `_`, so that every line splits into three fields.

Files larger than GZIP_OVER bytes are gzip-compressed (`.conll.gz`, without a timestamp, so the
same predictions give the same bytes); smaller ones stay plain text (`.conll`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FOLDER = "predictions"  # inside a results folder
GZIP_OVER = 64 * 1024
_SENT_ID = re.compile(r"# sent_id = (\d+)\Z")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Sentence:
    """One test sentence of a predictions file: its index in the split and its scored words."""

    index: int
    tokens: list[str]
    gold: list[str]
    predicted: list[str]


def conll_text(
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
) -> str:
    """The file's text: sentence i of the arguments is sentence i of the test split."""
    if not len(tokens) == len(gold) == len(predicted):
        raise ValueError(
            f"{len(tokens)} token rows, {len(gold)} gold rows, {len(predicted)} predicted rows"
        )
    lines = []
    for i, (words, true, pred) in enumerate(zip(tokens, gold, predicted, strict=True)):
        if not len(words) == len(true) == len(pred):
            raise ValueError(
                f"sentence {i}: {len(words)} words, {len(true)} gold tags, {len(pred)} predicted"
            )
        lines.append(f"# sent_id = {i}")
        lines.extend(
            f"{_SPACE.sub('_', word) or '_'} {t} {p}"
            for word, t, p in zip(words, true, pred, strict=True)
        )
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def encode_file(text: str) -> tuple[str, bytes]:
    """(file name suffix, bytes) of a predictions text: gzip over GZIP_OVER bytes."""
    data = text.encode("utf-8")
    if len(data) > GZIP_OVER:
        return ".conll.gz", gzip.compress(data, compresslevel=6, mtime=0)
    return ".conll", data


def read_predictions(path: str | Path) -> list[Sentence]:
    """The sentences of a predictions file (plain or gzip), in file order. A malformed line is
    a ValueError naming the file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such predictions file") from None
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable predictions file ({err})") from None
    sentences: list[Sentence] = []
    current: Sentence | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        found = _SENT_ID.match(line)
        if found:
            current = Sentence(int(found.group(1)), [], [], [])
            sentences.append(current)
        elif not line:
            current = None
        else:
            fields = line.split(" ")
            if len(fields) != 3 or current is None:
                why = "not `token gold predicted`" if len(fields) != 3 else "no # sent_id before"
                raise ValueError(f"{path}:{number}: {why}: {line[:60]!r}")
            current.tokens.append(fields[0])
            current.gold.append(fields[1])
            current.predicted.append(fields[2])
    return sentences


def split_fingerprint(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[object]]) -> str:
    """A hash of a test split's words and gold tags: two records with the same fingerprint were
    scored on the same sentences, in the same order."""
    payload = json.dumps(
        [[list(map(str, t)), list(map(str, g))] for t, g in zip(tokens, tags, strict=True)]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
