"""`[corpus.<lang>]`, `entity_types` and `[labels]` of a study file: what a study names as its
corpus, parsed and checked when the study loads. Plain Python; reading a corpus is
xner.data.corpus.

A language's corpus is split files (CoNLL columns, XTREME TSV or hub-shaped parquet; paths
relative to the study file) or a hub-shaped dataset (`tokens` and `ner_tags` class indices
with the tag names in the ClassLabel, as conll2003, conll2002, wikiann, masakhaner and
wnut_17 are): `data = "hub:NAME"` (with `config`) or a local copy of one (a folder written by
`DatasetDict.save_to_disk`, or parquet files), or `data = "synthetic"`: xner's synthetic
sentences with a MISC type, written as CoNLL-2003-style IOB1 files.

A study's top-level `data` is a corpus source of the same kind for each of its languages
(`source_corpus`): PAN-X from the hub (google/xtreme), WikiANN (unimelb-nlp/wikiann),
xner's synthetic PAN-X, a folder of XTREME's TSV files or of the hub's parquet files, or any
hub-shaped dataset (`hub:NAME`, one configuration per language). All of them are read by the
one reader of xner.data.corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xner.spec.labels import TAGS
from xner.spec.languages import check_lang
from xner.spec.schemes import SCHEME_CHOICES

SPLITS = ("train", "validation", "test")
FORMATS = ("conll", "xtreme", "parquet")
CORPUS_KEYS = {*SPLITS, "format", "scheme", "encoding", "data", "config"}
Sentences = list[tuple[list[str], list[str]]]

PANX_REPO = "google/xtreme"  # config PAN-X.<lang>: XTREME's 40 languages
WIKIANN_REPO = "unimelb-nlp/wikiann"  # one config per language, PAN-X's features plus `spans`
SYNTHETIC_PANX = "synthetic:panx"  # xner.data.synthetic's sentences, PAN-X's types
# A split in file names (XTREME's, CoNLL's): the validation file is "dev".
FILE_NAMES = {"train": "train", "validation": "dev", "test": "test"}


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
    # The tags that plain integer tag ids name, where the source knows them (PAN-X's own,
    # whose parquet files may lack a ClassLabel), and the only tags its files may hold.
    tag_names: tuple[str, ...] | None = None

    @property
    def paths(self) -> dict[str, str]:
        """Split -> file path (a tuple above keeps the spec hashable, for the read cache)."""
        return dict(self.files)

    def sources(self) -> list[str]:
        """What the corpus is read from: files, a folder or a hub name."""
        return [self.data] if self.data else list(self.paths.values())

    @property
    def where(self) -> str:
        """The corpus's name in messages: its hub name and configuration, folder or files."""
        if self.data and self.data.startswith("hub:"):
            return " ".join(filter(None, (self.data[len("hub:") :], self.config)))
        return self.data or ", ".join(self.paths.values())


def source_corpus(lang: str, source: str) -> CorpusSpec:
    """The corpus of `lang` in a study's top-level `data` source.

    "hub" is google/xtreme's PAN-X.<lang>, "wikiann" unimelb-nlp/wikiann's <lang>,
    "synthetic" xner's synthetic PAN-X, "hub:NAME" configuration <lang> of any hub-shaped
    dataset, and a folder holds, for any language code, XTREME's TSV files
    (`train-<lang>.tsv`, `dev-<lang>.tsv`, `test-<lang>.tsv`, directly or in `<lang>/`) or
    parquet files laid out as on the hub (`PAN-X.<lang>/<split>-*.parquet` of google/xtreme
    or `<lang>/<split>-*.parquet` of unimelb-nlp/wikiann). PAN-X's sources are IOB2 over
    PAN-X's tags; a hub-shaped dataset's scheme is found from its tags.
    """
    check_lang(lang, source)
    panx = {"scheme": "iob2", "tag_names": TAGS}
    if source == "hub":
        return CorpusSpec(lang, (), data=f"hub:{PANX_REPO}", config=f"PAN-X.{lang}", **panx)
    if source == "wikiann":
        return CorpusSpec(lang, (), data=f"hub:{WIKIANN_REPO}", config=lang, **panx)
    if source == "synthetic":
        return CorpusSpec(lang, (), data=SYNTHETIC_PANX, **panx)
    if source.startswith("hub:"):
        return CorpusSpec(lang, (), data=source, config=lang)
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(
            f"PAN-X source {str(root)!r} is not a directory (nor 'hub', 'wikiann', "
            "'synthetic' or hub:NAME)"
        )
    for folder in (root, root / lang):
        if (folder / f"train-{lang}.tsv").exists():
            files = {split: folder / f"{name}-{lang}.tsv" for split, name in FILE_NAMES.items()}
            for path in files.values():
                if not path.exists():
                    raise FileNotFoundError(
                        f"{path}: missing; PAN-X needs train, dev and test files"
                    )
            paths = tuple((split, str(path)) for split, path in files.items())
            return CorpusSpec(lang, paths, format="xtreme", **panx)
    for parquet_dir in (root / f"PAN-X.{lang}", root / lang):
        if parquet_dir.is_dir() and any(parquet_dir.glob("*.parquet")):
            for split in SPLITS:
                if not any(parquet_dir.glob(f"{split}-*.parquet")):
                    raise FileNotFoundError(f"{parquet_dir}: no {split}-*.parquet file")
            return CorpusSpec(lang, (), format="parquet", data=str(parquet_dir), **panx)
    raise FileNotFoundError(
        f"no PAN-X data for {lang!r} under {str(root)!r}: expected train-{lang}.tsv, "
        f"dev-{lang}.tsv and test-{lang}.tsv there or in {lang}/, or parquet files "
        f"PAN-X.{lang}/<split>-*.parquet (google/xtreme) or {lang}/<split>-*.parquet "
        "(unimelb-nlp/wikiann)"
    )


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
