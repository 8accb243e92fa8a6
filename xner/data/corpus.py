"""Any token-classification corpus a study names (xner.spec.corpus), loaded into the
DatasetDict schema xner uses downstream (columns tokens, ner_tags, langs) with the study's
IOB2 tag names instead of PAN-X's. Every corpus is read in its own scheme and turned into
IOB2; `datasets` loads only with the data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from xner.spec.corpus import SPLITS, CorpusSpec, Sentences
from xner.spec.labels import ENTITY_TYPES, TAGS, order_types
from xner.spec.schemes import (
    CorpusError,
    TagError,
    check_tags,
    detect_scheme,
    iob2_tags,
    split_tag,
    to_iob2,
)

logger = logging.getLogger(__name__)


# --- reading ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def read_corpus(spec: CorpusSpec) -> dict[str, Sentences]:
    """The corpus's splits as sentences of (tokens, IOB2 tags), read once per process."""
    if spec.data == "synthetic":
        return _read_synthetic(spec)
    if spec.data is not None:
        return _read_hub_shaped(spec)
    out = {}
    for split, path in spec.paths.items():
        if spec.format == "parquet":
            out[split] = _read_parquet_file(Path(path), spec.scheme)
            continue
        from xner.data.conll import read_conll

        read = read_conll(path, spec.encoding, spec.scheme, tabs_only=spec.format == "xtreme")
        sentences = read.sentences
        if spec.format == "xtreme":
            sentences = _strip_lang_prefix(sentences, spec.lang)
        if spec.scheme == "auto":
            logger.info("%s: %s tags, read as IOB2", path, read.scheme.upper())
        out[split] = sentences
    return out


def _read_synthetic(spec: CorpusSpec) -> dict[str, Sentences]:
    """xner's synthetic sentences with MISC, written as CoNLL-2003-style IOB1 files and read
    back as any CoNLL corpus is (xner.data.synthetic_conll)."""
    import tempfile

    from xner.data.conll import read_conll
    from xner.data.synthetic_conll import write_synthetic_conll

    with tempfile.TemporaryDirectory(prefix="xner-conll-") as folder:
        paths = write_synthetic_conll(folder, spec.lang)
        out = {}
        for split, path in paths.items():
            read = read_conll(path, "utf-8", spec.scheme)
            logger.info("synthetic %s %s: %s tags, read as IOB2", spec.lang, split, read.scheme)
            out[split] = read.sentences
    return out


def _strip_lang_prefix(sentences: Sentences, lang: str) -> Sentences:
    # Raw XTREME files prefix every token with "<lang>:" (see xner.data.read_tsv).
    prefix = f"{lang}:"
    if not sentences or not sentences[0][0][0].startswith(prefix):
        return sentences
    return [([t.removeprefix(prefix) for t in toks], tags) for toks, tags in sentences]


def _read_parquet_file(path: Path, scheme: str) -> Sentences:
    import datasets

    ds = datasets.Dataset.from_parquet(str(path))
    return _hub_rows({"file": ds}, str(path), scheme)["file"]


def _read_hub_shaped(spec: CorpusSpec) -> dict[str, Sentences]:
    import datasets

    assert spec.data is not None
    if spec.data.startswith("hub:"):
        from xner.data.hub import hub_call

        name = spec.data[len("hub:") :]
        dd = hub_call(
            lambda: datasets.load_dataset(name, name=spec.config),
            what=f"{name}{f' ({spec.config})' if spec.config else ''}",
            local_hint="save it once with DatasetDict.save_to_disk and give its folder as "
            f"corpus.{spec.lang}.data",
        )
        where = spec.data
    else:
        folder = Path(spec.data)
        if spec.config and (folder / spec.config).is_dir():
            folder = folder / spec.config
        where = str(folder)
        if (folder / "dataset_dict.json").exists():
            dd = datasets.load_from_disk(str(folder))
        else:
            files = {
                split: sorted(str(p) for p in folder.glob(f"{split}*.parquet")) for split in SPLITS
            }
            files = {split: found for split, found in files.items() if found}
            if "test" not in files:
                raise CorpusError(
                    f"{folder}: no test split: expected a folder written by save_to_disk "
                    "(dataset_dict.json) or parquet files <split>-*.parquet"
                )
            dd = datasets.load_dataset("parquet", data_files=files)
    if "test" not in dd:
        raise CorpusError(f"{where}: no test split (has {', '.join(dd)})")
    return _hub_rows({s: dd[s] for s in SPLITS if s in dd}, where, spec.scheme)


def _hub_rows(splits: Mapping, where: str, scheme: str) -> dict[str, Sentences]:
    """Hub-shaped splits (`tokens`, `ner_tags` class ids named by the ClassLabel) as IOB2."""
    rows: dict[str, Sentences] = {}
    for split, ds in splits.items():
        missing = {"tokens", "ner_tags"} - set(ds.column_names)
        if missing:
            raise CorpusError(f"{where} {split}: no column {', '.join(sorted(missing))}")
        names = getattr(ds.features["ner_tags"].feature, "names", None)
        if names is None:
            raise CorpusError(
                f"{where} {split}: ner_tags has no ClassLabel names, so its ids name no tags"
            )
        out = []
        for row, (tokens, ids) in enumerate(zip(ds["tokens"], ds["ner_tags"], strict=True)):
            if len(tokens) != len(ids):
                raise CorpusError(
                    f"{where} {split} row {row}: {len(tokens)} tokens, {len(ids)} tags"
                )
            bad = [i for i in ids if not 0 <= i < len(names)]
            if bad:
                raise CorpusError(f"{where} {split} row {row}: tag id {bad[0]} (names: {names})")
            out.append((list(tokens), [names[i] for i in ids]))
        rows[split] = out
    if scheme == "auto":
        scheme = detect_scheme([tags for split in rows.values() for _, tags in split])
        logger.info("%s: %s tags, read as IOB2", where, scheme.upper())
    for split, sentences in rows.items():
        for row, (_, tags) in enumerate(sentences):
            try:
                check_tags(tags, scheme)
            except TagError as err:
                raise CorpusError(f"{where} {split} row {row} tag {err.index}: {err}") from None
        rows[split] = [(tokens, to_iob2(tags, scheme)) for tokens, tags in sentences]
    return rows


# --- the study's tag set ------------------------------------------------------------------


def map_types(sentences: Sentences, mapping: Mapping[str, str]) -> Sentences:
    """IOB2 sentences with entity types renamed, or dropped to O, by `mapping`."""
    if not mapping:
        return sentences

    def one(tag: str) -> str:
        prefix, kind = split_tag(tag)
        if prefix == "O" or kind not in mapping:
            return tag
        return "O" if mapping[kind] == "O" else f"{prefix}-{mapping[kind]}"

    # In IOB2 an I- only follows its own type, so dropping or renaming whole types keeps
    # every remaining entity well formed.
    return [(tokens, [one(t) for t in tags]) for tokens, tags in sentences]


def study_entity_types(
    corpus: Mapping[str, CorpusSpec] | None,
    langs: Sequence[str],
    declared: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The study's entity types: declared, or the union over its languages' corpora (after
    the label map); PAN-X's three where the study has no corpus."""
    if declared:
        return tuple(declared)
    if not corpus:
        return ENTITY_TYPES
    found: set[str] = set()
    for lang in langs:
        if lang in corpus:
            for sentences in read_corpus(corpus[lang]).values():
                found |= {
                    split_tag(t)[1] for _, tags in map_types(sentences, mapping or {}) for t in tags
                } - {""}
    if not found:
        raise CorpusError(
            f"the corpora of {', '.join(langs)} hold no entity at all (after the label map)"
        )
    return order_types(found)


def corpus_fingerprint(spec: CorpusSpec) -> str:
    """Name, size and modification time of every file the corpus reads (for cache keys)."""
    stats = []
    for source in spec.sources():
        path = Path(source)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        stats += [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files if p.exists()]
    payload = [spec.format, spec.scheme, spec.encoding, spec.config, stats or spec.sources()]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def corpus_dataset(
    spec: CorpusSpec, tags: Sequence[str] = TAGS, mapping: Mapping[str, str] | None = None
):
    """The language's corpus as a DatasetDict of xner's schema with `tags` as the ClassLabel
    names; a type outside `tags` is an error naming where it is and what to do."""
    import datasets

    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(tags))),
            "langs": datasets.Sequence(datasets.Value("string")),
        }
    )
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    splits = {}
    for split, sentences in read_corpus(spec).items():
        sentences = map_types(sentences, mapping or {})
        ids = []
        for row, (_, row_tags) in enumerate(sentences):
            unknown = [t for t in row_tags if t not in tag_ids]
            if unknown:
                source = spec.data or spec.paths[split]
                kind = split_tag(unknown[0])[1]
                raise CorpusError(
                    f"{source}: {split} sentence {row + 1}: entity type {kind!r} is not among "
                    f"the study's ({', '.join(sorted({split_tag(t)[1] for t in tags} - {''}))}); "
                    f'add it to entity_types or map it: [labels] map = {{ {kind} = "O" }}'
                )
            ids.append([tag_ids[t] for t in row_tags])
        splits[split] = datasets.Dataset.from_dict(
            {
                "tokens": [tokens for tokens, _ in sentences],
                "ner_tags": ids,
                "langs": [[spec.lang] * len(tokens) for tokens, _ in sentences],
            },
            features=features,
        )
    return datasets.DatasetDict(splits)


def study_tags(study) -> tuple[str, ...]:
    """The IOB2 tags a study's model predicts, in head order (PAN-X's TAGS for PAN-X)."""
    corpus = getattr(study, "corpus", None)
    declared = getattr(study, "entity_types", None)
    if not corpus and not declared:
        return TAGS
    types = study_entity_types(corpus, study.langs(), declared, getattr(study, "label_map", {}))
    return iob2_tags(types)


def load_study_corpus(study, lang: str, data: str, fractions: Mapping[str, float] | None):
    """`{lang: DatasetDict}` of a study's language with the study's tag names: its
    `[corpus.<lang>]` where it has one, else `data` as xner.data.load_corpus reads it."""
    from xner.data.corpora import load_corpus, sample_fraction

    corpus = getattr(study, "corpus", None) or {}
    if lang not in corpus:
        loaded = load_corpus([lang], data, fractions)
        tags = study_tags(study)
        if tuple(tags) != TAGS:  # PAN-X data in a study with declared types: PAN-X names
            loaded = {lang: _retag(loaded[lang], tags)}
        return loaded
    dd = corpus_dataset(corpus[lang], study_tags(study), getattr(study, "label_map", {}))
    if fractions is not None:
        if lang not in fractions:
            raise ValueError(f"no corpus fraction for {lang!r}; fractions has {list(fractions)}")
        dd = sample_fraction(dd, fractions[lang], 0)
    return {lang: dd}


def _retag(dd, tags: Sequence[str]):
    """PAN-X's DatasetDict with its tag ids re-mapped to `tags` by name."""
    import datasets

    to = {tag: i for i, tag in enumerate(tags)}
    names = dd["train"].features["ner_tags"].feature.names
    missing = [n for n in names if n not in to]
    if missing:
        raise CorpusError(f"PAN-X tags {missing} are not among the study's tags {list(tags)}")
    mapping = [to[n] for n in names]
    features = dd["train"].features.copy()
    features["ner_tags"] = datasets.Sequence(datasets.ClassLabel(names=list(tags)))
    return dd.map(
        lambda b: {"ner_tags": [[mapping[t] for t in row] for row in b["ner_tags"]]},
        batched=True,
        features=features,
    )
