"""PAN-X loading: from the hub (google/xtreme's 40 languages or unimelb-nlp/wikiann's 176), from
XTREME's TSV download, or from parquet files laid out as on the hub; plus the report's corpus
sampling, few-shot subsets and multilingual concatenation.

Every loader returns the hub's exact schema, so nothing downstream knows where data came from.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path

import datasets
import pyarrow.parquet

from xner.data.synthetic import DEFAULT_SIZES, LANGS, synthetic_sentences
from xner.errors import XnerError
from xner.spec.labels import TAGS
from xner.spec.languages import check_lang

SPLITS = ("train", "validation", "test")
WIKIANN_REPO = "unimelb-nlp/wikiann"  # one config per language, PAN-X's features plus `spans`

# XTREME names the validation file "dev".
_FILE_SPLIT = {"train": "train", "validation": "dev", "test": "test"}

CORPUS_SEED = 0
SUBSET_SEED = 42

FEATURES = datasets.Features(
    {
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(TAGS))),
        "langs": datasets.Sequence(datasets.Value("string")),
    }
)


class PanxFormatError(XnerError, ValueError):
    """A PAN-X file that cannot be read as such; the message names the file and line."""


def load_panx(lang: str, source: str | Path = "hub") -> datasets.DatasetDict:
    """Load one PAN-X language as a DatasetDict with splits train, validation and test.

    `source` is "hub" (google/xtreme, config PAN-X.<lang>: XTREME's 40 languages), "wikiann"
    (unimelb-nlp/wikiann, config <lang>: WikiANN's 176 languages, same sentences and tags),
    "synthetic" (xner's generated PAN-X, seed 0, for the CPU study) or a directory holding,
    for any language code, XTREME's TSV download (`train-<lang>.tsv`, `dev-<lang>.tsv`,
    `test-<lang>.tsv`, directly or in a `<lang>/` folder) or parquet files laid out as on the
    hub: google/xtreme's `PAN-X.<lang>/<split>-*.parquet` or unimelb-nlp/wikiann's
    `<lang>/<split>-*.parquet`.
    """
    check_lang(lang, str(source))
    if str(source) == "hub":
        return _load_hub("google/xtreme", f"PAN-X.{lang}")
    if str(source) == "wikiann":
        return _load_hub(WIKIANN_REPO, lang)
    if str(source) == "synthetic":
        return synthetic_panx(lang)
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(
            f"PAN-X source {str(root)!r} is not a directory (nor 'hub', 'wikiann', 'synthetic')"
        )
    for folder in (root, root / lang):
        if (folder / f"train-{lang}.tsv").exists():
            return _load_tsv_dir(folder, lang)
    for parquet_dir in (root / f"PAN-X.{lang}", root / lang):
        if parquet_dir.is_dir() and any(parquet_dir.glob("*.parquet")):
            return _load_parquet_dir(parquet_dir, lang)
    raise FileNotFoundError(
        f"no PAN-X data for {lang!r} under {str(root)!r}: expected train-{lang}.tsv, "
        f"dev-{lang}.tsv and test-{lang}.tsv there or in {lang}/, or parquet files "
        f"PAN-X.{lang}/<split>-*.parquet (google/xtreme) or {lang}/<split>-*.parquet "
        "(unimelb-nlp/wikiann)"
    )


def _load_hub(repo: str, config: str) -> datasets.DatasetDict:
    from xner.data.hub import hub_call  # one place turns "hub unreachable" into advice

    dd = hub_call(
        lambda: datasets.load_dataset(repo, name=config),
        what=f"{config} from {repo}",
        local_hint="pass a directory with XTREME's TSV files or the hub's parquet files "
        "(--data DIR / --xner-data DIR)",
    )
    missing = [split for split in SPLITS if split not in dd]
    if missing:
        raise PanxFormatError(f"{repo} {config}: no split {', '.join(missing)} (has {list(dd)})")
    return datasets.DatasetDict(
        {split: _as_panx(dd[split], f"{repo} {config} {split}") for split in SPLITS}
    )


def _as_panx(ds: datasets.Dataset, where: str) -> datasets.Dataset:
    """`ds` with exactly PAN-X's FEATURES: other columns (WikiANN's `spans`) dropped, tag ids
    mapped by tag name where the source's ClassLabel orders the tags differently."""
    missing = set(FEATURES) - set(ds.column_names)
    if missing:
        raise PanxFormatError(f"{where}: missing column(s) {', '.join(sorted(missing))}")
    ds = ds.select_columns(list(FEATURES))
    names = getattr(ds.features["ner_tags"].feature, "names", None)
    if names is not None and list(names) != list(TAGS):
        unknown = [name for name in names if name not in TAGS]
        if unknown:
            raise PanxFormatError(
                f"{where}: ner_tags names {unknown} are not PAN-X tags ({', '.join(TAGS)})"
            )
        to_panx = [TAGS.index(name) for name in names]
        ds = ds.cast_column("ner_tags", datasets.Sequence(datasets.Value("int64"))).map(
            lambda batch: {"ner_tags": [[to_panx[t] for t in row] for row in batch["ner_tags"]]},
            batched=True,
        )
    return ds.cast(FEATURES)


def _load_tsv_dir(folder: Path, lang: str) -> datasets.DatasetDict:
    splits = {}
    for split in SPLITS:
        path = folder / f"{_FILE_SPLIT[split]}-{lang}.tsv"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; PAN-X needs train, dev and test files")
        rows = read_tsv(path, lang)
        splits[split] = datasets.Dataset.from_dict(rows, features=FEATURES)
    return datasets.DatasetDict(splits)


def read_tsv(path: str | Path, lang: str) -> dict[str, list[list]]:
    """Read one XTREME PAN-X TSV file into columns tokens, ner_tags (tag ids) and langs.

    One `token<TAB>tag` line per token and a blank line between sentences. Raw XTREME files
    prefix every token with `<lang>:`; a file is raw when its first token has the prefix, and
    then every token must have it. Errors name the file and the line.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise PanxFormatError(f"{path}:{line}: bytes that are not UTF-8 ({err.reason})") from None
    tag_ids = {tag: i for i, tag in enumerate(TAGS)}
    prefix = f"{lang}:"
    raw: bool | None = None
    columns: dict[str, list[list]] = {"tokens": [], "ner_tags": [], "langs": []}
    tokens: list[str] = []
    tags: list[int] = []

    def end_sentence() -> None:
        if tokens:
            columns["tokens"].append(list(tokens))
            columns["ner_tags"].append(list(tags))
            columns["langs"].append([lang] * len(tokens))
            tokens.clear()
            tags.clear()

    # split("\n") rather than splitlines(): the latter also breaks on U+2028, U+0085 and
    # other characters that may sit inside a token.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip(" "):  # only spaces: a tab or U+2028 alone is a malformed line
            end_sentence()
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            what = "no tab" if len(fields) == 1 else f"{len(fields)} tab-separated fields"
            raise PanxFormatError(f"{path}:{number}: expected 'token<TAB>tag', found {what}")
        token, tag = fields[0], fields[1].strip()
        if raw is None:
            raw = token.startswith(prefix)
        if raw:
            if not token.startswith(prefix):
                raise PanxFormatError(
                    f"{path}:{number}: token {token!r} lacks the {prefix!r} prefix the file's "
                    "first token has"
                )
            token = token[len(prefix) :]
        if not token:
            raise PanxFormatError(f"{path}:{number}: empty token")
        if tag not in tag_ids:
            raise PanxFormatError(
                f"{path}:{number}: unknown tag {tag!r}; PAN-X tags are {', '.join(TAGS)}"
            )
        tokens.append(token)
        tags.append(tag_ids[tag])
    end_sentence()
    if not columns["tokens"]:
        raise PanxFormatError(f"{path}: empty split, no sentences")
    return columns


def _load_parquet_dir(folder: Path, lang: str) -> datasets.DatasetDict:
    splits = {}
    for split in SPLITS:
        files = sorted(folder.glob(f"{split}-*.parquet"))
        if not files:
            raise FileNotFoundError(f"{folder}: no {split}-*.parquet file")
        # datasets refuses an empty split with a message that names no file: check first.
        if sum(pyarrow.parquet.ParquetFile(f).metadata.num_rows for f in files) == 0:
            raise PanxFormatError(f"{files[0]}: empty split {split!r}, no sentences")
        ds = datasets.load_dataset(
            "parquet", data_files={split: [str(f) for f in files]}, split=split
        )
        missing = set(FEATURES) - set(ds.column_names)
        if missing:
            raise PanxFormatError(f"{files[0]}: missing column(s) {', '.join(sorted(missing))}")
        _check_rows(ds, files, split)
        splits[split] = _as_panx(ds, str(files[0]))
    return datasets.DatasetDict(splits)


def _check_rows(ds: datasets.Dataset, files: list[Path], split: str) -> None:
    """Reject empty splits, rows whose columns differ in length, and unknown tag ids (ids of
    the file's own ClassLabel where it has one: `_as_panx` maps those to PAN-X's by name)."""
    if ds.num_rows == 0:
        raise PanxFormatError(f"{files[0]}: empty split {split!r}, no sentences")
    names = getattr(ds.features["ner_tags"].feature, "names", None)
    n_tags = len(TAGS) if names is None else len(names)
    for row, (tokens, tags, langs) in enumerate(
        zip(ds["tokens"], ds["ner_tags"], ds["langs"], strict=True)
    ):
        if not len(tokens) == len(tags) == len(langs):
            raise PanxFormatError(
                f"{_row_place(files, ds, row)}: {len(tokens)} tokens but {len(tags)} tags "
                f"and {len(langs)} langs"
            )
        bad = [t for t in tags if not 0 <= t < n_tags]
        if bad:
            raise PanxFormatError(f"{_row_place(files, ds, row)}: unknown tag id {bad[0]}")


def _row_place(files: list[Path], ds: datasets.Dataset, row: int) -> str:
    # One file is the common case; with several, the row number is across their concatenation.
    where = str(files[0]) if len(files) == 1 else f"{files[0].parent}/{{{len(files)} files}}"
    return f"{where}: row {row}"


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
        write_tsv(dd[split], Path(directory) / f"{_FILE_SPLIT[split]}-{lang}.tsv", raw=raw)
    return Path(directory)


def load_corpus(
    langs: Iterable[str],
    source: str | Path = "hub",
    fractions: Mapping[str, float] | None = None,
    seed: int = CORPUS_SEED,
) -> dict[str, datasets.DatasetDict]:
    """Load several PAN-X languages, each split cut to the report's fraction of its rows.

    Each split is shuffled with `seed` and its first `int(fraction * num_rows)` rows kept, as
    REPORT.md describes; `fractions=None` keeps every split whole.
    """
    corpus = {}
    for lang in langs:
        dd = load_panx(lang, source)
        if fractions is not None:
            if lang not in fractions:
                raise ValueError(
                    f"no corpus fraction for {lang!r}; fractions has {list(fractions)}"
                )
            dd = sample_fraction(dd, fractions[lang], seed)
        corpus[lang] = dd
    return corpus


def sample_fraction(dd: datasets.DatasetDict, fraction: float, seed: int) -> datasets.DatasetDict:
    """Shuffle each split with `seed` and keep its first `int(fraction * num_rows)` rows."""
    if not 0 < fraction <= 1:
        raise ValueError(f"corpus fraction must be in (0, 1], got {fraction}")
    return datasets.DatasetDict(
        {
            split: ds.shuffle(seed=seed).select(range(int(fraction * ds.num_rows)))
            for split, ds in dd.items()
        }
    )


def few_shot_subset(train: datasets.Dataset, n: int, seed: int = SUBSET_SEED) -> datasets.Dataset:
    """The first `n` rows after `shuffle(seed)`: subsets of growing `n` nest in one another."""
    if not 0 < n <= train.num_rows:
        raise ValueError(f"few-shot size {n} must be between 1 and the {train.num_rows} rows")
    return train.shuffle(seed=seed).select(range(n))


def concat_languages(
    corpus: Mapping[str, datasets.DatasetDict], langs: Iterable[str], seed: int = SUBSET_SEED
) -> datasets.DatasetDict:
    """Train and validation splits of `langs` concatenated and shuffled with `seed`."""
    langs = list(langs)
    missing = [lang for lang in langs if lang not in corpus]
    if missing:
        raise KeyError(f"languages {missing} not in the corpus ({list(corpus)})")
    return datasets.DatasetDict(
        {
            split: datasets.concatenate_datasets([corpus[lang][split] for lang in langs]).shuffle(
                seed=seed
            )
            for split in ("train", "validation")
        }
    )


def synthetic_panx(
    lang: str, sizes: Mapping[str, int] = DEFAULT_SIZES, seed: int = 0
) -> datasets.DatasetDict:
    """A PAN-X DatasetDict for `lang`, with the hub's features and `sizes` rows per split."""
    tag_ids = {tag: i for i, tag in enumerate(TAGS)}
    splits = {}
    for split, n in sizes.items():
        rows = list(synthetic_sentences(lang, n, split, seed))
        splits[split] = datasets.Dataset.from_dict(
            {
                "tokens": [tokens for tokens, _ in rows],
                "ner_tags": [[tag_ids[t] for t in tags] for _, tags in rows],
                "langs": [[lang] * len(tokens) for tokens, _ in rows],
            },
            features=FEATURES,
        )
    return datasets.DatasetDict(splits)


def write_synthetic_xtreme(
    directory, langs=LANGS, sizes: Mapping[str, int] = DEFAULT_SIZES, seed: int = 0, raw=False
):
    """Write synthetic PAN-X for `langs` as XTREME TSV files; returns the directory."""
    for lang in langs:
        write_xtreme(synthetic_panx(lang, sizes, seed), directory, lang, raw=raw)
    return directory
