"""`[corpus.<lang>]`, `entity_types` and `[labels]` of a study file: what a study names as its
corpus, parsed and checked when the study loads. Plain Python; reading a corpus is
xner.data.corpus.

A language's corpus is split files (CoNLL columns, XTREME TSV or hub-shaped parquet; paths
relative to the study file) or a hub-shaped dataset (`tokens` and `ner_tags` class indices
with the tag names in the ClassLabel, as conll2003, conll2002, wikiann, masakhaner and
wnut_17 are): `data = "hub:NAME"` (with `config`) or a local copy of one (a folder written by
`DatasetDict.save_to_disk`, or parquet files), or `data = "synthetic"`: xner's synthetic
sentences with a MISC type, written as CoNLL-2003-style IOB1 files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xner.spec.schemes import SCHEME_CHOICES

SPLITS = ("train", "validation", "test")
FORMATS = ("conll", "xtreme", "parquet")
CORPUS_KEYS = {*SPLITS, "format", "scheme", "encoding", "data", "config"}
Sentences = list[tuple[list[str], list[str]]]


@dataclass(frozen=True)
class CorpusSpec:
    """One language's corpus as a study file names it."""

    lang: str
    files: tuple[tuple[str, str], ...]  # (split, file path) pairs, for split files
    format: str = "conll"
    scheme: str = "auto"
    encoding: str = "utf-8"
    data: str | None = None  # "hub:NAME" or a folder: a hub-shaped dataset
    config: str | None = None  # the hub dataset's configuration ("es" of conll2002)

    @property
    def paths(self) -> dict[str, str]:
        """Split -> file path (a tuple above keeps the spec hashable, for the read cache)."""
        return dict(self.files)

    def sources(self) -> list[str]:
        """What the corpus is read from: files, a folder or a hub name."""
        return [self.data] if self.data else list(self.paths.values())


def parse_corpus(
    value: object, root: Path, fail: Callable[[str, str], Exception]
) -> dict[str, CorpusSpec]:
    """The `[corpus.<lang>]` tables of a study file; paths become relative to `root` (the
    study file's folder). `fail(key, problem)` makes the error that names the file and key."""
    if not isinstance(value, dict) or not value:
        raise fail("corpus", "a table of languages, e.g. [corpus.en] with train/validation/test")
    specs = {}
    for lang, table in value.items():
        key = f"corpus.{lang}"
        if not isinstance(table, dict):
            raise fail(key, "must be a table")
        unknown = sorted(set(table) - CORPUS_KEYS)
        if unknown:
            raise fail(
                f"{key}.{unknown[0]}", f"unknown key; known: {', '.join(sorted(CORPUS_KEYS))}"
            )
        for name, item in table.items():
            if not isinstance(item, str):
                raise fail(f"{key}.{name}", f"must be a string, got {item!r}")
        fmt = table.get("format", "conll")
        if fmt not in FORMATS:
            raise fail(f"{key}.format", f"{fmt!r}; accepted: {', '.join(FORMATS)}")
        scheme = table.get("scheme", "auto")
        if scheme not in SCHEME_CHOICES:
            raise fail(f"{key}.scheme", f"{scheme!r}; accepted: {', '.join(SCHEME_CHOICES)}")
        encoding = table.get("encoding", "utf-8")
        try:
            "".encode(encoding)
        except LookupError:
            raise fail(f"{key}.encoding", f"unknown encoding {encoding!r}") from None
        data = table.get("data")
        files = {s: table[s] for s in SPLITS if s in table}
        if data is not None:
            if files:
                raise fail(key, "give `data` (a hub-shaped dataset) or split files, not both")
            if not data.startswith("hub:") and data != "synthetic":
                folder = root / data
                if not folder.is_dir():
                    raise fail(f"{key}.data", f"{str(folder)!r} is not a folder (nor hub:NAME)")
                data = str(folder)
        else:
            if "test" not in files:
                raise fail(key, "no test file; every language needs `test` (and `train` and "
                           "`validation` where it is trained on)")  # fmt: skip
            for split, name in files.items():
                path = root / name
                if not path.is_file():
                    raise fail(f"{key}.{split}", f"no file {str(path)!r}")
                files[split] = str(path)
        specs[lang] = CorpusSpec(
            lang, tuple(files.items()), fmt, scheme, encoding, data, table.get("config")
        )
    return specs


def parse_label_map(value: object, fail: Callable[[str, str], Exception]) -> dict[str, str]:
    """`[labels] map = { MISC = "O", PERSON = "PER" }`: how the types of several corpora meet
    ("O" drops a type, another name renames it)."""
    if not isinstance(value, dict) or set(value) - {"map"}:
        raise fail("labels", 'a table with one key, map = { TYPE = "O" or "OTHER_TYPE" }')
    mapping = value.get("map", {})
    if not isinstance(mapping, dict) or not all(
        isinstance(v, str) and v and "-" not in v for v in mapping.values()
    ):
        raise fail("labels.map", f'entity type = "O" or another type name, got {mapping!r}')
    return dict(mapping)


def parse_entity_types(value: object, fail: Callable[[str, str], Exception]) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(t, str) and t and "-" not in t and t != "O" for t in value)
        or len(set(value)) != len(value)
    ):
        raise fail(
            "entity_types", f'a list of distinct type names like ["PER", "LOC"], got {value!r}'
        )
    return tuple(value)
