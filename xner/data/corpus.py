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

from xner.data.synthetic import synthetic_sentences
from xner.spec.corpus import SPLITS, SYNTHETIC_PANX, CorpusSpec, Sentences, source_corpus
from xner.spec.labels import TAGS, order_types
from xner.spec.languages import PANX_ROWS, SYNTHETIC_SIZES
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


def read_corpus(spec: CorpusSpec) -> dict[str, Sentences]:
    """The corpus's splits as sentences of (tokens, IOB2 tags): the one reader of every
    source, PAN-X's built-in ones (xner.spec.corpus.source_corpus) and a study's
    `[corpus.<lang>]` alike. A corpus whose tags are not known beforehand is read once per
    process (the study's entity types come from it, then its dataset); PAN-X's, whose tags
    are, are not kept: a matrix over many languages would hold them all."""
    return _read(spec) if spec.tag_names is not None else _read_once(spec)


@functools.lru_cache(maxsize=64)
def _read_once(spec: CorpusSpec) -> dict[str, Sentences]:
    return _read(spec)


def _read(spec: CorpusSpec) -> dict[str, Sentences]:
    if spec.data == SYNTHETIC_PANX:  # xner.data.panx.synthetic_panx's sentences
        return {
            split: list(synthetic_sentences(spec.lang, n, split, 0))
            for split, n in SYNTHETIC_SIZES.items()
        }
    if spec.data == "synthetic":
        return _read_synthetic(spec)
    if spec.data is not None:
        return _hub_rows(_hub_shaped(spec), spec.where, spec.scheme, spec.tag_names)
    if spec.format == "parquet":
        files = {split: [Path(path)] for split, path in spec.paths.items()}
        return _hub_rows(read_parquet(files), spec.where, spec.scheme, spec.tag_names)
    from xner.data.conll import read_conll

    out = {}
    for split, path in spec.paths.items():
        read = read_conll(
            path,
            spec.encoding,
            spec.scheme,
            tabs_only=spec.format == "xtreme",
            lang_prefix=f"{spec.lang}:" if spec.format == "xtreme" else None,
            tags=spec.tag_names,
        )
        if spec.scheme == "auto":
            logger.info("%s: %s tags, read as IOB2", path, read.scheme.upper())
        out[split] = read.sentences
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


def read_parquet(files: Mapping[str, Sequence[Path]]) -> dict:
    """Split -> the Dataset of its parquet files (several are concatenated in order): the one
    parquet reader, for a `[corpus.<lang>]` file per split and the hub's layout alike."""
    import datasets
    import pyarrow.parquet

    out = {}
    for split, paths in files.items():
        # datasets refuses an empty split with a message that names no file: check first.
        if sum(pyarrow.parquet.ParquetFile(p).metadata.num_rows for p in paths) == 0:
            raise CorpusError(f"{paths[0]}: empty split {split!r}, no sentences")
        out[split] = datasets.load_dataset(
            "parquet", data_files={split: [str(p) for p in paths]}, split=split
        )
    return out


def _hub_shaped(spec: CorpusSpec) -> Mapping:
    """The splits of a hub-shaped dataset: from the hub, a folder written by save_to_disk, or
    parquet files `<split>-*.parquet` (the hub's own layout)."""
    import datasets

    assert spec.data is not None
    if spec.data.startswith("hub:"):
        from xner.data.hub import hub_call

        name = spec.data[len("hub:") :]
        dd = hub_call(
            lambda: datasets.load_dataset(name, name=spec.config),
            what=f"{spec.config} from {name}" if spec.config else name,
            local_hint="save it once with DatasetDict.save_to_disk and give its folder as "
            f"corpus.{spec.lang}.data, or give a folder of XTREME's TSV files or the hub's "
            "parquet files as `data` (--data DIR / --xner-data DIR)",
        )
    else:
        folder = Path(spec.data)
        if spec.config and (folder / spec.config).is_dir():
            folder = folder / spec.config
        if (folder / "dataset_dict.json").exists():
            dd = datasets.load_from_disk(str(folder))
        else:
            files = {split: sorted(folder.glob(f"{split}-*.parquet")) for split in SPLITS}
            dd = read_parquet({split: found for split, found in files.items() if found})
    if "test" not in dd:
        raise CorpusError(
            f"{spec.where}: no test split (has {', '.join(dd) or 'none'}): expected a folder "
            "written by save_to_disk (dataset_dict.json) or parquet files <split>-*.parquet"
        )
    return {split: dd[split] for split in SPLITS if split in dd}


def _hub_rows(
    splits: Mapping, where: str, scheme: str, tag_names: Sequence[str] | None = None
) -> dict[str, Sentences]:
    """Hub-shaped splits (`tokens`, `ner_tags` class ids named by the ClassLabel, or by
    `tag_names` where they are plain integers) as IOB2; other columns are not read."""
    rows: dict[str, Sentences] = {}
    for split, ds in splits.items():
        missing = {"tokens", "ner_tags"} - set(ds.column_names)
        if missing:
            raise CorpusError(f"{where} {split}: no column {', '.join(sorted(missing))}")
        names = getattr(ds.features["ner_tags"].feature, "names", None) or tag_names
        if names is None:
            raise CorpusError(
                f"{where} {split}: ner_tags has no ClassLabel names, so its ids name no tags"
            )
        if tag_names is not None and set(names) - set(tag_names):
            raise CorpusError(
                f"{where} {split}: ner_tags names {sorted(set(names) - set(tag_names))} are "
                f"not among the source's tags ({', '.join(tag_names)})"
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
        if not out:
            raise CorpusError(f"{where} {split}: empty split, no sentences")
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


def corpus_rows(spec: CorpusSpec) -> dict[str, int]:
    """Sentences per split as the source knows them without reading the corpus: generated
    sizes, parquet and Arrow metadata, sentences counted in text files. A hub dataset's are
    not known offline: PAN-X's (REPORT.md's 20,000/10,000/10,000) stand in for them."""
    return _rows(spec)


@functools.lru_cache(maxsize=256)
def _rows(spec: CorpusSpec) -> dict[str, int]:
    if spec.data in (SYNTHETIC_PANX, "synthetic"):
        return dict(SYNTHETIC_SIZES)
    if spec.data is not None and spec.data.startswith("hub:"):
        return dict(PANX_ROWS)
    if spec.data is not None:
        return _folder_rows(Path(spec.data), spec.config)
    if spec.format == "parquet":
        return {split: _parquet_rows([Path(p)]) for split, p in spec.paths.items()}
    return {split: _count_sentences(Path(p), spec.encoding) for split, p in spec.paths.items()}


def _folder_rows(folder: Path, config: str | None) -> dict[str, int]:
    if config and (folder / config).is_dir():
        folder = folder / config
    if (folder / "dataset_dict.json").exists():  # save_to_disk: Arrow stream files per split
        import pyarrow

        splits = json.loads((folder / "dataset_dict.json").read_text(encoding="utf-8"))
        return {
            split: sum(
                batch.num_rows
                for path in sorted((folder / split).glob("*.arrow"))
                for batch in pyarrow.ipc.open_stream(pyarrow.memory_map(str(path)))
            )
            for split in splits.get("splits", [])
        }
    return {
        split: _parquet_rows(sorted(folder.glob(f"{split}-*.parquet")))
        for split in SPLITS
        if any(folder.glob(f"{split}-*.parquet"))
    }


def _parquet_rows(paths: Sequence[Path]) -> int:
    import pyarrow.parquet

    return sum(pyarrow.parquet.ParquetFile(p).metadata.num_rows for p in paths)


def _count_sentences(path: Path, encoding: str) -> int:
    """Blocks of non-blank lines, -DOCSTART- lines apart: the reader's sentences, counted
    without checking them (the reader checks when the data loads)."""
    count, inside = 0, False
    with path.open(encoding=encoding, errors="replace") as lines:
        for line in lines:
            text = line.strip()
            if not text or text.startswith("-DOCSTART-"):
                inside = False
            elif not inside:
                count, inside = count + 1, True
    return count


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
    specs: Mapping[str, CorpusSpec],
    declared: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The study's entity types: declared, or the union over its languages' corpora (after
    the label map); a PAN-X source's are PAN-X's three, known without reading it."""
    if declared:
        return tuple(declared)
    found: set[str] = set()
    for spec in specs.values():
        if spec.tag_names is not None and not mapping:
            found |= {split_tag(t)[1] for t in spec.tag_names} - {""}
            continue
        for sentences in read_corpus(spec).values():
            found |= {
                split_tag(t)[1] for _, tags in map_types(sentences, mapping or {}) for t in tags
            } - {""}
    if not found:
        raise CorpusError(
            f"the corpora of {', '.join(specs)} hold no entity at all (after the label map)"
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
    """The language's corpus as a DatasetDict of xner's schema (tokens, ner_tags, langs) with
    `tags` as the ClassLabel names; a type outside `tags` is an error naming where it is and
    what to do."""
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    splits = {}
    for split, sentences in read_corpus(spec).items():
        sentences = map_types(sentences, mapping or {})
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
        splits[split] = sentences
    return to_dataset(splits, spec.lang, tags)


def features(tags: Sequence[str] = TAGS):
    """xner's schema: PAN-X's columns, with `tags` as the ClassLabel names."""
    import datasets

    return datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(tags))),
            "langs": datasets.Sequence(datasets.Value("string")),
        }
    )


def to_dataset(splits: Mapping[str, Sentences], lang: str, tags: Sequence[str] = TAGS):
    """Sentences of (tokens, tags among `tags`) per split as a DatasetDict of xner's schema."""
    import datasets
    import pyarrow

    tag_ids = {tag: i for i, tag in enumerate(tags)}
    schema = features(tags)
    # An Arrow table of the schema's own types (ClassLabel ids are int64): what
    # Dataset.from_dict would build after encoding every tag one by one, at a third the time.
    return datasets.DatasetDict(
        {
            split: datasets.Dataset(
                pyarrow.Table.from_pydict(
                    {
                        "tokens": [list(tokens) for tokens, _ in sentences],
                        "ner_tags": [[tag_ids[t] for t in row] for _, row in sentences],
                        "langs": [[lang] * len(tokens) for tokens, _ in sentences],
                    },
                    schema=schema.arrow_schema,
                ),
                info=datasets.DatasetInfo(features=schema),
            )
            for split, sentences in splits.items()
        }
    )


def study_corpus(study, lang: str, data: str | None = None) -> CorpusSpec:
    """A study's language's corpus: its `[corpus.<lang>]` where it has one, else the corpus
    of `data` (the study's top-level source unless given)."""
    corpus = (getattr(study, "corpus", None) or {}).get(lang)
    return corpus or source_corpus(lang, str(data or study.data))


def study_corpora(study, data: str | None = None) -> dict[str, CorpusSpec]:
    """The corpus of each of the study's languages (`study_corpus`)."""
    return {lang: study_corpus(study, lang, data) for lang in study.langs()}


def study_tags(study, data: str | None = None) -> tuple[str, ...]:
    """The IOB2 tags a study's model predicts, in head order (PAN-X's TAGS for PAN-X)."""
    specs = study_corpora(study, data)
    types = study_entity_types(specs, study.entity_types, study.label_map)
    return iob2_tags(types)


def load_study_corpus(study, lang: str, data: str, fractions: Mapping[str, float] | None):
    """`{lang: DatasetDict}` of a study's language with the study's tag names, each split
    cut to the language's fraction (xner.data.sampling)."""
    from xner.data.sampling import sample_language

    spec = study_corpus(study, lang, data)
    dd = corpus_dataset(spec, study_tags(study, data), study.label_map)
    return {lang: sample_language(dd, lang, fractions)}
