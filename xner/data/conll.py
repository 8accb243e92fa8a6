"""CoNLL column files: one token per line, whitespace-separated columns with the token first and
the NER tag last (CoNLL-2002: `token tag` or `token POS tag`; CoNLL-2003: `token POS chunk
tag`), a blank line between sentences, `-DOCSTART-` lines between documents.

Reading gives sentences of (tokens, IOB2 tags) and the scheme the file was in; anything that
cannot be read is a `CorpusError` whose message is one line, `FILE:LINE: problem`. Plain
Python: no torch, no datasets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xner.spec.schemes import (
    SCHEME_CHOICES,
    CorpusError,
    TagError,
    check_tags,
    detect_scheme,
    from_iob2,
    to_iob2,
)
from xner.writer import write_atomic

logger = logging.getLogger(__name__)

DOCSTART = "-DOCSTART-"
# Columns are split on ASCII blanks only: str.split() would also split on U+00A0 and other
# Unicode spaces, which can sit inside a token of a Latin-1 or UTF-8 corpus.
_COLUMNS = re.compile(r"[ \t]+")

Sentence = tuple[list[str], list[str]]


@dataclass(frozen=True)
class ConllFile:
    """One read file: its sentences with IOB2 tags, and the scheme they were written in."""

    path: Path
    sentences: list[Sentence]
    scheme: str  # the file's own scheme, found or declared


def read_conll(
    path: str | Path,
    encoding: str = "utf-8",
    scheme: str = "auto",
    tag_column: int = -1,
    tabs_only: bool = False,
    lang_prefix: str | None = None,
    tags: Sequence[str] | None = None,
) -> ConllFile:
    """Read a CoNLL column file into sentences of (tokens, IOB2 tags).

    `scheme` is "iob1", "iob2", "bioes", "bilou" or "auto" (found from the tags, see
    `xner.schemes.detect_scheme`; the one found is logged and returned). `tag_column` is the
    column of the NER tag (the last by default). `tabs_only` reads XTREME's TSV: columns
    split at tabs alone (its tokens may hold spaces), a line of only spaces ends a sentence.
    `lang_prefix` ("de:") is the prefix raw XTREME files put on every token: a file is raw
    when its first token has it, and then every token must. `tags`, where given, are the only
    tags the file may hold (PAN-X's seven for PAN-X). Raises CorpusError naming the file and
    the line for a line with one column, an empty token, a tag outside `tags` or the scheme,
    an I-/E- tag that cannot follow where it is, bytes that are not `encoding`, or a file with
    no sentences.
    """
    path = Path(path)
    if scheme not in SCHEME_CHOICES:
        raise CorpusError(f"{path}: scheme {scheme!r}; accepted: {', '.join(SCHEME_CHOICES)}")
    text = _decode(path, encoding)
    raw: list[tuple[list[str], list[str], list[int]]] = []
    tokens: list[str] = []
    sentence_tags: list[str] = []
    lines: list[int] = []

    def end_sentence() -> None:
        if tokens:
            raw.append((list(tokens), list(sentence_tags), list(lines)))
            tokens.clear()
            sentence_tags.clear()
            lines.clear()

    # split("\n"), not splitlines(): the latter also breaks at U+2028, U+0085 and others.
    raw_file: bool | None = None
    known = None if tags is None else set(tags)
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        # A tab alone is a malformed XTREME line (an empty token), not a sentence break.
        if not line.strip(" " if tabs_only else " \t"):
            end_sentence()
            continue
        columns = line.split("\t") if tabs_only else _COLUMNS.split(line.strip(" \t"))
        if columns[0] == DOCSTART:
            end_sentence()  # a document boundary is a sentence boundary
            continue
        if len(columns) < 2:
            raise CorpusError(
                f"{path}:{number}: one column ({columns[0]!r}); expected the token first and "
                f"the NER tag last, separated by {'a tab' if tabs_only else 'spaces or tabs'}"
            )
        try:
            tag = columns[tag_column].strip()
        except IndexError:
            raise CorpusError(
                f"{path}:{number}: {len(columns)} columns, no tag column {tag_column}"
            ) from None
        token = columns[0]
        if lang_prefix is not None:
            if raw_file is None:
                raw_file = token.startswith(lang_prefix)
            if raw_file and not token.startswith(lang_prefix):
                raise CorpusError(
                    f"{path}:{number}: token {token!r} lacks the {lang_prefix!r} prefix the "
                    "file's first token has"
                )
            if raw_file:
                token = token[len(lang_prefix) :]
        if not token:
            raise CorpusError(f"{path}:{number}: empty token")
        if known is not None and tag not in known:
            raise CorpusError(
                f"{path}:{number}: unknown tag {tag!r}; the tags are {', '.join(tags or ())}"
            )
        tokens.append(token)
        sentence_tags.append(tag)
        lines.append(number)
    end_sentence()
    if not raw:
        raise CorpusError(f"{path}: no sentences (an empty split)")
    found = detect_scheme([t for _, t, _ in raw]) if scheme == "auto" else scheme
    if scheme == "auto":
        logger.info("%s: tags read as %s (found from the tags)", path, found.upper())
    for _, sentence_tags, sentence_lines in raw:
        try:
            check_tags(sentence_tags, found)
        except TagError as err:
            how = "found" if scheme == "auto" else "declared"
            raise CorpusError(
                f"{path}:{sentence_lines[err.index]}: {err} [scheme {found}, {how}]"
            ) from None
    sentences = [(toks, to_iob2(t, found)) for toks, t, _ in raw]
    return ConllFile(path, sentences, found)


def _decode(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except OSError as err:
        raise CorpusError(f"{path}: cannot be read ({err.strerror})") from None
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except LookupError:
        raise CorpusError(f"{path}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        hint = ' (try `encoding = "latin-1"`)' if encoding.lower() != "latin-1" else ""
        raise CorpusError(
            f"{path}:{line}: byte 0x{data[err.start]:02x} at offset {err.start} is not "
            f"{encoding} ({err.reason}){hint}"
        ) from None


def conll_text(
    sentences: Iterable[Sentence],
    scheme: str = "iob2",
    columns: Sequence[str] = (),
    docstart: bool = False,
    where: str = "CoNLL text",
) -> str:
    """IOB2 sentences as the text of a CoNLL file with its tags in `scheme` (see write_conll)."""
    middle = "".join(f" {c}" for c in columns)
    lines = [f"{DOCSTART}{' -X-' * len(columns)} O\n\n"] if docstart else []
    for tokens, tags in sentences:
        for token, tag in zip(tokens, from_iob2(tags, scheme), strict=True):
            if not token or token == DOCSTART or re.search(r"[ \t\r\n]", token):
                raise ValueError(f"{where}: token {token!r} cannot be written as a column")
            lines.append(f"{token}{middle} {tag}\n")
        lines.append("\n")
    return "".join(lines)


def write_conll(
    sentences: Iterable[Sentence],
    path: str | Path,
    scheme: str = "iob2",
    encoding: str = "utf-8",
    columns: Sequence[str] = (),
    docstart: bool = False,
) -> Path:
    """Write IOB2 sentences as a CoNLL file with its tags in `scheme`.

    `columns` are filler columns written between token and tag (CoNLL-2003's `POS chunk`
    layout is `columns=("NN", "I-NP")`); `docstart` opens the file with a
    `-DOCSTART- -X- -X- O` line and a blank line, as CoNLL-2003 does.
    """
    path = Path(path)
    text = conll_text(sentences, scheme, columns, docstart, where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, text.encode(encoding))
