"""PAN-X as a DatasetDict of the hub's exact schema: `load_panx` and `load_corpus` over the
built-in corpus sources (xner.spec.corpus.source_corpus: the hub, WikiANN, synthetic, XTREME
and parquet folders, read by xner.data.corpus's one reader), and XTREME's TSV files written
back. Every loader returns the hub's schema, so nothing downstream knows where data came from.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path

import datasets

from xner.data.corpus import corpus_dataset, features, to_dataset
from xner.data.sampling import CORPUS_SEED, sample_language
from xner.data.synthetic import DEFAULT_SIZES, LANGS, synthetic_sentences
from xner.spec.corpus import FILE_NAMES, SPLITS, source_corpus
from xner.spec.labels import TAGS

FEATURES = features(TAGS)


def load_panx(lang: str, source: str | Path = "hub") -> datasets.DatasetDict:
    """One PAN-X language as a DatasetDict with splits train, validation and test, from a
    built-in source: "hub" (google/xtreme's PAN-X.<lang>: XTREME's 40 languages), "wikiann"
    (unimelb-nlp/wikiann's <lang>: 176 languages, same sentences and tags), "synthetic"
    (xner's generated PAN-X, seed 0) or a folder of XTREME's TSV files or the hub's parquet
    files (xner.spec.corpus.source_corpus names the layouts)."""
    return corpus_dataset(source_corpus(lang, str(source)), TAGS)


def load_corpus(
    langs: Iterable[str],
    source: str | Path = "hub",
    fractions: Mapping[str, float] | None = None,
    seed: int = CORPUS_SEED,
) -> dict[str, datasets.DatasetDict]:
    """Several PAN-X languages, each split cut to its fraction of the rows as REPORT.md
    describes (xner.data.sampling); a language without a fraction keeps its splits whole."""
    return {lang: sample_language(load_panx(lang, source), lang, fractions, seed) for lang in langs}


def write_tsv(dataset: datasets.Dataset, path: str | Path, raw: bool = False) -> Path:
    """Write a PAN-X split as XTREME TSV (`raw=True` adds the `<lang>:` token prefix)."""
    from xner.writer import write_atomic

    path = Path(path)
    names = dataset.features["ner_tags"].feature.names
    out = io.StringIO()
    for tokens, tags, langs in zip(
        dataset["tokens"], dataset["ner_tags"], dataset["langs"], strict=True
    ):
        for token, tag, lang in zip(tokens, tags, langs, strict=True):
            if any(c in token for c in "\t\n\r") or not token:
                raise ValueError(f"{path}: token {token!r} cannot be written as TSV")
            out.write(f"{lang}:{token}\t{names[tag]}\n" if raw else f"{token}\t{names[tag]}\n")
        out.write("\n")
    return write_atomic(path, out.getvalue())


def write_xtreme(dd: datasets.DatasetDict, directory: str | Path, lang: str, raw: bool = False):
    """Write a PAN-X DatasetDict as XTREME's train-/dev-/test-<lang>.tsv files in `directory`."""
    for split in SPLITS:
        write_tsv(dd[split], Path(directory) / f"{FILE_NAMES[split]}-{lang}.tsv", raw=raw)
    return Path(directory)


def synthetic_panx(
    lang: str, sizes: Mapping[str, int] = DEFAULT_SIZES, seed: int = 0
) -> datasets.DatasetDict:
    """A PAN-X DatasetDict for `lang`, with the hub's features and `sizes` rows per split."""
    splits = {split: list(synthetic_sentences(lang, n, split, seed)) for split, n in sizes.items()}
    return to_dataset(splits, lang, TAGS)


def write_synthetic_xtreme(
    directory, langs=LANGS, sizes: Mapping[str, int] = DEFAULT_SIZES, seed: int = 0, raw=False
):
    """Write synthetic PAN-X for `langs` as XTREME TSV files; returns the directory."""
    for lang in langs:
        write_xtreme(synthetic_panx(lang, sizes, seed), directory, lang, raw=raw)
    return directory
