"""PAN-X loading from files the tests write, corpus sampling, few-shot subsets, the hub wrapper.

Expected rows are written here by hand or parsed here with a few lines of independent code;
expected permutations come from `datasets` itself (REPORT.md: `Dataset.shuffle(seed)` followed
by the first rows).
"""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import pytest

from xner.data.conll import read_conll
from xner.data.hub import HubUnreachableError, hub_call
from xner.data.panx import (
    FEATURES,
    load_corpus,
    load_panx,
    synthetic_panx,
    write_synthetic_xtreme,
    write_xtreme,
)
from xner.data.sampling import concat_languages, few_shot_subset, sample_fraction
from xner.spec.labels import TAGS  # noqa: E402 - REPORT.md's order (tests/test_align.py checks it)
from xner.spec.languages import source_languages
from xner.spec.schemes import CorpusError

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release
SPLIT_FILES = {"train": "train", "validation": "dev", "test": "test"}

# Hand-written sentences, different in every split, so that a mixed-up split shows.
SENTENCES = {
    "train": [
        (["Angela", "Merkel", "besucht", "Paris", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
        (["Die", "Deutsche", "Bahn", "AG", "streikt"], ["O", "B-ORG", "I-ORG", "I-ORG", "O"]),
        (["Köln"], ["B-LOC"]),
        (["12:30", "Uhr", "in", "São", "Paulo"], ["O", "O", "O", "B-LOC", "I-LOC"]),
    ],
    "validation": [
        (["Thomas", "Müller", "spielt", "für", "Bayern"], ["B-PER", "I-PER", "O", "O", "B-ORG"]),
        (["«", "Wien", "»"], ["O", "B-LOC", "O"]),
    ],
    "test": [
        (["Siemens", "baut", "in", "Erlangen"], ["B-ORG", "O", "O", "B-LOC"]),
        (["Ein", "Satz", "ohne", "Namen"], ["O", "O", "O", "O"]),
        (["Marie", "Curie"], ["B-PER", "I-PER"]),
    ],
}


def expected_columns(sentences, lang):
    return {
        "tokens": [list(tokens) for tokens, _ in sentences],
        "ner_tags": [[TAGS.index(t) for t in tags] for _, tags in sentences],
        "langs": [[lang] * len(tokens) for tokens, _ in sentences],
    }


def tsv_text(sentences, prefix="", newline="\n", blank_lines=1, final_blank=True) -> str:
    blocks = [
        newline.join(f"{prefix}{token}\t{tag}" for token, tag in zip(*s, strict=True))
        for s in sentences
    ]
    text = (newline * (blank_lines + 1)).join(blocks) + newline
    return text + newline if final_blank else text


def write_tsv_files(folder: Path, lang: str, sentences=SENTENCES, **style) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, name in SPLIT_FILES.items():
        (folder / f"{name}-{lang}.tsv").write_bytes(
            tsv_text(sentences[split], **style).encode("utf-8")
        )
    return folder


def assert_panx(dd: datasets.DatasetDict, lang: str, sentences=SENTENCES):
    assert sorted(dd) == ["test", "train", "validation"]
    for split, ds in dd.items():
        assert ds.features == FEATURES
        assert ds.to_dict() == expected_columns(sentences[split], lang), split


@pytest.fixture(autouse=True, scope="module")
def _datasets_cache_in_tmp(tmp_path_factory):
    """Keep load_dataset("parquet")'s Arrow cache of the tests' files out of ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf-cache"))
        yield


def read_xtreme(path: Path, lang: str):
    """One XTREME file through the reader every TSV corpus goes through, as PAN-X's sources
    read it (xner.spec.corpus.source_corpus): IOB2 over PAN-X's tags."""
    return read_conll(
        path, "utf-8", "iob2", tabs_only=True, lang_prefix=f"{lang}:", tags=TAGS
    ).sentences


def place(path: Path, line: int) -> str:
    return re.escape(f"{path}:{line}:")


# --- reading every layout ------------------------------------------------------------------


def test_tsv_directly_in_the_directory(tmp_path):
    write_tsv_files(tmp_path, "de")
    assert_panx(load_panx("de", tmp_path), "de")


def test_tsv_in_a_language_subfolder(tmp_path):
    write_tsv_files(tmp_path / "fr", "fr")
    assert_panx(load_panx("fr", tmp_path), "fr")
    assert_panx(load_panx("fr", str(tmp_path)), "fr")  # a str source works as well


def test_raw_lang_prefix_is_stripped_and_langs_column_set(tmp_path):
    write_tsv_files(tmp_path, "it", prefix="it:")
    dd = load_panx("it", tmp_path)
    assert_panx(dd, "it")
    # Only the prefix goes: "it:12:30" is the token "12:30".
    assert dd["train"][3]["tokens"][0] == "12:30"


def test_raw_prefix_of_the_language_asked_for(tmp_path):
    # A plain file whose tokens happen to start like another language's prefix keeps them.
    sentences = {split: [(["de:Berlin", "x"], ["B-LOC", "O"])] for split in SPLIT_FILES}
    write_tsv_files(tmp_path, "en", sentences)
    assert load_panx("en", tmp_path)["train"]["tokens"] == [["de:Berlin", "x"]]


def test_hub_parquet_layout(tmp_path):
    folder = tmp_path / "PAN-X.de"
    for split in SPLIT_FILES:
        ds = datasets.Dataset.from_dict(expected_columns(SENTENCES[split], "de"), features=FEATURES)
        ds.to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))
    assert_panx(load_panx("de", tmp_path), "de")


def test_parquet_with_plain_int_tags_and_extra_columns(tmp_path):
    folder = tmp_path / "PAN-X.en"
    for split in SPLIT_FILES:
        columns = expected_columns(SENTENCES[split], "en")
        columns["id"] = list(range(len(columns["tokens"])))
        datasets.Dataset.from_dict(columns).to_parquet(
            str(folder / f"{split}-00000-of-00001.parquet")
        )
    assert_panx(load_panx("en", tmp_path), "en")


def test_row_order_is_file_order_for_every_layout(tmp_path):
    # 60 sentences with distinct first tokens: any reordering shows.
    many = [([f"w{i}", "x"], [("O", "B-PER", "B-ORG", "B-LOC")[i % 4], "O"]) for i in range(60)]
    sentences = {split: many for split in SPLIT_FILES}
    write_tsv_files(tmp_path / "tsv", "de", sentences)
    write_tsv_files(tmp_path / "raw" / "de", "de", sentences, prefix="de:")
    for split in SPLIT_FILES:
        datasets.Dataset.from_dict(expected_columns(many, "de"), features=FEATURES).to_parquet(
            str(tmp_path / "pq" / "PAN-X.de" / f"{split}-00000-of-00001.parquet")
        )
    for layout in ("tsv", "raw", "pq"):
        dd = load_panx("de", tmp_path / layout)
        for split in SPLIT_FILES:
            assert dd[split]["tokens"] == [tokens for tokens, _ in many], layout


@pytest.mark.parametrize("raw", [False, True])
def test_write_xtreme_round_trip(tmp_path, raw):
    dd = synthetic_panx("fr", {"train": 40, "validation": 20, "test": 20}, seed=3)
    write_xtreme(dd, tmp_path, "fr", raw=raw)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dev-fr.tsv",
        "test-fr.tsv",
        "train-fr.tsv",
    ]
    first_line = (tmp_path / "train-fr.tsv").read_text(encoding="utf-8").split("\n")[0]
    assert first_line.startswith("fr:") == raw
    back = load_panx("fr", tmp_path)
    for split in SPLIT_FILES:
        assert back[split].features == FEATURES
        assert back[split].to_dict() == dd[split].to_dict()


def test_write_xtreme_round_trip_keeps_odd_tokens(tmp_path):
    odd = [(["a\u2028b", "\u0085", "x\x0by", "\x1c", "\x0c", "c\u2029", "é"], ["O"] * 7)]
    dd = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(expected_columns(odd, "de"), features=FEATURES)
            for split in SPLIT_FILES
        }
    )
    write_xtreme(dd, tmp_path, "de")
    assert load_panx("de", tmp_path)["test"]["tokens"] == [odd[0][0]]


# --- tolerated formatting ------------------------------------------------------------------


@pytest.mark.parametrize(
    "style",
    [
        {"newline": "\r\n"},
        {"final_blank": False},
        {"final_blank": False, "newline": "\r\n"},
        {"blank_lines": 3},
        {"blank_lines": 2, "newline": "\r\n", "prefix": "de:"},
    ],
    ids=["crlf", "no-final-blank", "crlf-no-final-blank", "several-blank-lines", "crlf-raw"],
)
def test_formatting_variants_read_the_same(tmp_path, style):
    write_tsv_files(tmp_path, "de", **style)
    assert_panx(load_panx("de", tmp_path), "de")


def test_file_without_final_newline(tmp_path):
    write_tsv_files(tmp_path, "de")
    for name in ("train-de.tsv", "test-de.tsv"):
        path = tmp_path / name
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
        assert not path.read_bytes().endswith(b"\n")
    assert_panx(load_panx("de", tmp_path), "de")


def test_utf8_bom_is_not_part_of_the_first_token(tmp_path):
    write_tsv_files(tmp_path, "de")
    for name in ("train-de.tsv", "dev-de.tsv"):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert_panx(load_panx("de", tmp_path), "de")


def test_utf8_bom_on_a_raw_file(tmp_path):
    write_tsv_files(tmp_path, "de", prefix="de:")
    path = tmp_path / "train-de.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert_panx(load_panx("de", tmp_path), "de")


@pytest.mark.parametrize(
    "token", ["a\u2028b", "\u2028", "x\u0085", "\u0085", "\u2029z", "a\x0bb", "\x1c", "f\x0cg"]
)
def test_tokens_with_unicode_line_separators_survive(tmp_path, token):
    path = tmp_path / "train-de.tsv"
    path.write_bytes(f"vor\tO\n{token}\tB-PER\nnach\tO\n\nzwei\tO\n".encode())
    assert read_xtreme(path, "de") == [
        (["vor", token, "nach"], ["O", "B-PER", "O"]),
        (["zwei"], ["O"]),
    ]


def test_tag_with_trailing_whitespace_is_read(tmp_path):
    path = tmp_path / "train-de.tsv"
    path.write_bytes(b"Paris\tB-LOC \nx\tO\r\n")
    assert read_xtreme(path, "de") == [(["Paris", "x"], ["B-LOC", "O"])]


# --- bad input: the error names the file and the line --------------------------------------


def write_with_bad_test_file(tmp_path: Path, content: bytes, lang: str = "de") -> Path:
    """Valid train and dev files, and `content` as the test file; returns its path."""
    write_tsv_files(tmp_path, lang)
    bad = tmp_path / f"test-{lang}.tsv"
    bad.write_bytes(content)
    return bad


def test_unknown_tag(tmp_path):
    bad = write_with_bad_test_file(tmp_path, b"Siemens\tB-ORG\n\nParis\tO\nMunich\tB-CITY\n")
    with pytest.raises(CorpusError, match=place(bad, 4) + ".*'B-CITY'"):
        load_panx("de", tmp_path)


def test_lowercase_tag_is_unknown(tmp_path):
    bad = write_with_bad_test_file(tmp_path, b"Paris\tb-loc\n")
    with pytest.raises(CorpusError, match=place(bad, 1)):
        load_panx("de", tmp_path)


def test_line_without_tab(tmp_path):
    bad = write_with_bad_test_file(tmp_path, b"Paris\tB-LOC\nBerlin B-LOC\n")
    with pytest.raises(CorpusError, match=place(bad, 2) + ".*one column.*separated by a tab"):
        load_panx("de", tmp_path)


def test_line_with_three_fields(tmp_path):
    # The tag is the last column, as in every column file: here "extra", not a PAN-X tag.
    bad = write_with_bad_test_file(tmp_path, b"a\tO\n\nb\tO\n\n\nc\tO\textra\n")
    with pytest.raises(CorpusError, match=place(bad, 6) + ".*unknown tag 'extra'"):
        load_panx("de", tmp_path)


def test_raw_file_where_a_later_token_lacks_the_prefix(tmp_path):
    bad = write_with_bad_test_file(tmp_path, b"de:Paris\tB-LOC\nde:ist\tO\n\nBerlin\tB-LOC\n")
    with pytest.raises(CorpusError, match=place(bad, 4) + ".*'Berlin'.*prefix"):
        load_panx("de", tmp_path)


@pytest.mark.parametrize("first, line", [(b"x\tO", b"\tO"), (b"de:x\tO", b"de:\tO")])
def test_empty_token(tmp_path, first, line):
    bad = write_with_bad_test_file(tmp_path, first + b"\n" + line + b"\n")
    with pytest.raises(CorpusError, match=place(bad, 2) + ".*empty token"):
        load_panx("de", tmp_path)


def test_error_line_numbers_count_crlf_lines_and_bom(tmp_path):
    bad = write_with_bad_test_file(tmp_path, b"\xef\xbb\xbfa\tO\r\n\r\nb\tO\r\nc\tB-XYZ\r\n")
    with pytest.raises(CorpusError, match=place(bad, 4)):
        load_panx("de", tmp_path)


@pytest.mark.parametrize(
    "content, line",
    [
        (b"\xff\tO\n", 1),
        (b"a\tO\n\nb\tO\n\xe9t\xe9\tO\n", 4),  # Latin-1 "été" on line 4
        (b"a\tO\r\nb\tO\r\n\r\nc\x80\tO\r\n", 4),
        (b"a\tO\nb\tO\n\nc\tO\nd\tO\n\xc3", 6),  # truncated multi-byte sequence at the end
    ],
)
def test_bytes_that_are_not_utf8(tmp_path, content, line):
    bad = write_with_bad_test_file(tmp_path, content)
    with pytest.raises(CorpusError, match=place(bad, line) + ".*is not utf-8"):
        load_panx("de", tmp_path)


@pytest.mark.parametrize("content", [b"", b"\n", b"\n\n\n", b"\r\n\r\n", b" \n  \n"])
def test_empty_split(tmp_path, content):
    write_tsv_files(tmp_path, "de")
    empty = tmp_path / "dev-de.tsv"
    empty.write_bytes(content)
    with pytest.raises(CorpusError, match=re.escape(str(empty)) + ".*empty split"):
        load_panx("de", tmp_path)


def test_missing_dev_file(tmp_path):
    write_tsv_files(tmp_path, "de")
    (tmp_path / "dev-de.tsv").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "dev-de.tsv"))):
        load_panx("de", tmp_path)


def test_missing_test_file_in_language_subfolder(tmp_path):
    write_tsv_files(tmp_path / "de", "de")
    (tmp_path / "de" / "test-de.tsv").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "de" / "test-de.tsv"))):
        load_panx("de", tmp_path)


@pytest.mark.parametrize("raw", [False, True])
def test_a_folder_holds_any_language_code(tmp_path, raw):
    # "qaa" is on no list (ISO 639's first code for local use): a user's own train-qaa.tsv
    # loads like PAN-X's, in XTREME's plain and raw (`qaa:`-prefixed) forms.
    dd = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                expected_columns(SENTENCES[split], "qaa"), features=FEATURES
            )
            for split in SPLIT_FILES
        }
    )
    write_xtreme(dd, tmp_path, "qaa", raw=raw)
    assert (
        (tmp_path / "train-qaa.tsv")
        .read_text(encoding="utf-8")
        .startswith("qaa:Angela\t" if raw else "Angela\t")
    )
    assert source_languages(str(tmp_path)) == ("qaa",)
    assert_panx(load_panx("qaa", tmp_path), "qaa")


@pytest.mark.parametrize("source", ["hub", "wikiann", "synthetic"])
def test_unknown_language_of_a_built_in_source(source, monkeypatch):
    def no_hub(*args, **kwargs):
        raise AssertionError("the language is refused before anything loads")

    monkeypatch.setattr(datasets, "load_dataset", no_hub)
    with pytest.raises(ValueError, match=f"'xx'.*'{source}'"):
        load_panx("xx", source)


def test_source_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_panx("de", missing)


def test_source_that_is_a_file(tmp_path):
    path = write_tsv_files(tmp_path, "de") / "train-de.tsv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_panx("de", path)


def test_directory_without_data_for_the_language(tmp_path):
    write_tsv_files(tmp_path, "fr")
    with pytest.raises(FileNotFoundError, match=r"'de'.*train-de\.tsv.*PAN-X\.de/.*de/"):
        load_panx("de", tmp_path)


def write_parquet_splits(folder: Path, test_columns: dict, features=None) -> Path:
    folder.mkdir(parents=True)
    for split in ("train", "validation"):
        datasets.Dataset.from_dict(
            expected_columns(SENTENCES[split], "de"), features=FEATURES
        ).to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))
    bad = folder / "test-00000-of-00001.parquet"
    datasets.Dataset.from_dict(test_columns, features=features).to_parquet(str(bad))
    return bad


def test_parquet_row_with_fewer_tags_than_tokens(tmp_path):
    columns = expected_columns(SENTENCES["test"], "de")
    columns["ner_tags"][1] = columns["ner_tags"][1][:-1]  # row 1: 4 tokens, 3 tags
    bad = write_parquet_splits(tmp_path / "PAN-X.de", columns)
    with pytest.raises(CorpusError, match=re.escape(f"{bad.parent} test row 1: 4 tokens, 3")):
        load_panx("de", tmp_path)


def test_parquet_langs_column_is_not_read(tmp_path):
    # xner writes `langs` itself from the language (any corpus may lack the column).
    columns = expected_columns(SENTENCES["test"], "de")
    columns["langs"] = [["xx"] for _ in columns["langs"]]
    write_parquet_splits(tmp_path / "PAN-X.de", columns)
    assert_panx(load_panx("de", tmp_path), "de")


def test_parquet_unknown_tag_id(tmp_path):
    columns = expected_columns(SENTENCES["test"], "de")
    columns["ner_tags"][2] = [1, 9]
    bad = write_parquet_splits(tmp_path / "PAN-X.de", columns)  # plain int64 tags
    with pytest.raises(CorpusError, match=re.escape(f"{bad.parent} test row 2: tag id 9")):
        load_panx("de", tmp_path)


def test_parquet_empty_split(tmp_path):
    empty = {"tokens": [], "ner_tags": [], "langs": []}
    bad = write_parquet_splits(tmp_path / "PAN-X.de", empty, features=FEATURES)
    with pytest.raises(CorpusError, match=re.escape(str(bad)) + ".*empty split"):
        load_panx("de", tmp_path)


def test_parquet_missing_column(tmp_path):
    columns = expected_columns(SENTENCES["test"], "de")
    del columns["tokens"]
    bad = write_parquet_splits(tmp_path / "PAN-X.de", columns)
    with pytest.raises(CorpusError, match=re.escape(f"{bad.parent} test: no column tokens")):
        load_panx("de", tmp_path)


def test_parquet_missing_split(tmp_path):
    folder = tmp_path / "PAN-X.de"
    write_parquet_splits(folder, expected_columns(SENTENCES["test"], "de"))
    (folder / "validation-00000-of-00001.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(folder)) + ".*validation"):
        load_panx("de", tmp_path)


# --- the hub -------------------------------------------------------------------------------


def test_hub_call_turns_connection_error_into_advice():
    def offline():
        raise ConnectionError("Max retries exceeded with url: /api/datasets\nsecond line")

    with pytest.raises(HubUnreachableError) as excinfo:
        hub_call(offline, what="PAN-X.de from google/xtreme", local_hint="pass --data DIR")
    message = str(excinfo.value)
    assert "PAN-X.de from google/xtreme" in message
    assert "pass --data DIR" in message
    assert "Max retries exceeded" in message  # the cause, for the user
    assert isinstance(excinfo.value.__cause__, ConnectionError)


def test_hub_call_with_an_oserror_without_message():
    def offline():
        raise ConnectionError()

    with pytest.raises(HubUnreachableError, match="PAN-X.fr.*use the files"):
        hub_call(offline, what="PAN-X.fr", local_hint="use the files")


def test_hub_call_returns_the_value_and_passes_other_errors_through():
    assert hub_call(lambda: 42, what="x", local_hint="y") == 42

    def broken():
        raise KeyError("not a connection problem")

    with pytest.raises(KeyError):
        hub_call(broken, what="x", local_hint="y")


def test_load_panx_from_an_unreachable_hub_gives_advice(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(HubUnreachableError, match=r"PAN-X\.de.*google/xtreme.*DIR"):
        load_panx("de")


def test_load_panx_from_the_hub_casts_to_panx_features(monkeypatch):
    calls = []

    def fake_hub(path, name=None, **kwargs):
        calls.append((path, name))
        return datasets.DatasetDict(
            {
                split: datasets.Dataset.from_dict(expected_columns(s, "it"))
                for split, s in SENTENCES.items()
            }
        )

    monkeypatch.setattr(datasets, "load_dataset", fake_hub)
    assert_panx(load_panx("it", "hub"), "it")
    assert calls == [("google/xtreme", "PAN-X.it")]


# --- WikiANN: unimelb-nlp/wikiann, one config per language --------------------------------

# The features of unimelb-nlp/wikiann as its dataset card states them (dataset_info of every
# config): tokens, ner_tags (ClassLabel O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC), langs
# and spans, the entities as "TYPE: words" strings. Its parquet files lie at
# <config>/<split>-00000-of-00001.parquet on the hub's main branch.
WIKIANN_FEATURES = datasets.Features(
    {
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(
            datasets.ClassLabel(names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])
        ),
        "langs": datasets.Sequence(datasets.Value("string")),
        "spans": datasets.Sequence(datasets.Value("string")),
    }
)


def wikiann_spans(tokens, tags) -> list[str]:
    """WikiANN's `spans` column for one sentence: ["PER: Angela Merkel", "LOC: Paris"]."""
    spans = []
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-"):
            spans.append(f"{tag[2:]}: {token}")
        elif tag.startswith("I-"):
            spans[-1] += f" {token}"
    return spans


def write_wikiann(root: Path, lang: str, sentences=SENTENCES, names=None) -> Path:
    """Parquet files for `lang` laid out and typed as unimelb-nlp/wikiann serves them; `names`
    gives the ClassLabel another tag order (ids follow it) to test mapping by name."""
    names = names or WIKIANN_FEATURES["ner_tags"].feature.names
    features = WIKIANN_FEATURES.copy()
    features["ner_tags"] = datasets.Sequence(datasets.ClassLabel(names=names))
    for split, rows in sentences.items():
        columns = {
            "tokens": [list(tokens) for tokens, _ in rows],
            "ner_tags": [[names.index(t) for t in tags] for _, tags in rows],
            "langs": [[lang] * len(tokens) for tokens, _ in rows],
            "spans": [wikiann_spans(tokens, tags) for tokens, tags in rows],
        }
        datasets.Dataset.from_dict(columns, features=features).to_parquet(
            str(root / lang / f"{split}-00000-of-00001.parquet")
        )
    return root


@pytest.fixture
def wikiann_hub(tmp_path, monkeypatch):
    """datasets.load_dataset answering for unimelb-nlp/wikiann from parquet files written in
    its layout under tmp_path/hub, as the hub's parquet builder reads them; records calls."""
    real_load_dataset = datasets.load_dataset
    calls = []

    def from_local_files(path, name=None, **kwargs):
        if path != "unimelb-nlp/wikiann":  # a local folder's parquet files: the real loader
            return real_load_dataset(path, name, **kwargs)
        calls.append((path, name))
        folder = tmp_path / "hub" / name
        if not folder.is_dir():
            raise ValueError(f"BuilderConfig {name!r} not found.")  # as datasets says it
        return real_load_dataset(
            "parquet",
            data_files={s: str(folder / f"{s}-*.parquet") for s in SPLIT_FILES},
        )

    monkeypatch.setattr(datasets, "load_dataset", from_local_files)
    return tmp_path / "hub", calls


def test_wikiann_from_the_hub_drops_spans_and_keeps_panx_features(wikiann_hub):
    root, calls = wikiann_hub
    write_wikiann(root, "zh-yue")  # Cantonese: WikiANN's config, not a PAN-X language
    assert_panx(load_panx("zh-yue", "wikiann"), "zh-yue")
    assert calls == [("unimelb-nlp/wikiann", "zh-yue")]


def test_wikiann_tags_are_mapped_by_name_not_by_position(wikiann_hub, tmp_path):
    root, _ = wikiann_hub
    shuffled = ["B-LOC", "O", "I-ORG", "B-PER", "I-LOC", "B-ORG", "I-PER"]
    write_wikiann(root, "de", names=shuffled)
    assert_panx(load_panx("de", "wikiann"), "de")
    write_wikiann(tmp_path / "local", "de", names=shuffled)  # the same files in a folder
    assert_panx(load_panx("de", tmp_path / "local"), "de")


def test_wikiann_tag_names_outside_panx_are_refused(wikiann_hub, tmp_path):
    root, _ = wikiann_hub
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC"]
    write_wikiann(root, "ace", names=names)
    with pytest.raises(CorpusError, match=r"unimelb-nlp/wikiann ace train.*'B-MISC'"):
        load_panx("ace", "wikiann")
    write_wikiann(tmp_path / "local", "ace", names=names)
    bad = tmp_path / "local" / "ace"
    with pytest.raises(CorpusError, match=re.escape(f"{bad} train: ner_tags names ['B-MISC']")):
        load_panx("ace", tmp_path / "local")


def test_wikiann_parquet_layout_in_a_folder(tmp_path):
    write_wikiann(tmp_path, "bat-smg")
    write_wikiann(tmp_path, "de")
    assert source_languages(str(tmp_path)) == ("bat-smg", "de")
    assert_panx(load_panx("bat-smg", tmp_path), "bat-smg")
    assert_panx(load_panx("de", tmp_path), "de")


def test_every_layout_of_a_folder_is_listed_and_loads(tmp_path):
    write_tsv_files(tmp_path, "qaa")  # XTREME's TSV, in the folder itself
    write_tsv_files(tmp_path / "qab", "qab", prefix="qab:")  # raw TSV in <lang>/
    for split in SPLIT_FILES:  # google/xtreme's parquet
        datasets.Dataset.from_dict(
            expected_columns(SENTENCES[split], "qac"), features=FEATURES
        ).to_parquet(str(tmp_path / "PAN-X.qac" / f"{split}-00000-of-00001.parquet"))
    write_wikiann(tmp_path, "qad")  # unimelb-nlp/wikiann's parquet
    langs = source_languages(str(tmp_path))
    assert langs == ("qaa", "qab", "qac", "qad")
    for lang in langs:
        assert_panx(load_panx(lang, tmp_path), lang)


def test_wikiann_config_missing_from_the_hub(wikiann_hub):
    # "zea" is one of WikiANN's 176 configs; the fake hub has no files for it.
    with pytest.raises(ValueError, match="'zea' not found"):  # passed on, not "unreachable"
        load_panx("zea", "wikiann")


def test_wikiann_from_an_unreachable_hub_gives_advice(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(HubUnreachableError, match=r"zh-yue from unimelb-nlp/wikiann.*DIR"):
        load_panx("zh-yue", "wikiann")


def test_a_wikiann_language_is_not_on_google_xtreme(monkeypatch):
    monkeypatch.setattr(datasets, "load_dataset", None)  # nothing may load
    with pytest.raises(ValueError, match="'zh-yue'.*'hub'"):
        load_panx("zh-yue", "hub")


# --- corpus sampling at the real PAN-X sizes -----------------------------------------------

REAL_SIZES = {"train": 20_000, "validation": 10_000, "test": 10_000}
REPORT_SIZES = {  # REPORT.md: int(fraction * rows) of 20,000 / 10,000 / 10,000
    "de": {"train": 12_580, "validation": 6_290, "test": 6_290},
    "fr": {"train": 4_580, "validation": 2_290, "test": 2_290},
    "it": {"train": 1_680, "validation": 840, "test": 840},
    "en": {"train": 1_180, "validation": 590, "test": 590},
}
LANGS = ("de", "fr", "it", "en")
# REPORT.md: each split of each language keeps this fraction of its rows (the report study's
# `fractions`).
REPORT_FRACTIONS = {"de": 0.629, "fr": 0.229, "it": 0.084, "en": 0.059}


def parse_plain_tsv(path: Path) -> list[tuple[list[str], list[str]]]:
    """An independent reader for the files write_synthetic_xtreme writes (plain, LF)."""
    sentences, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line:
            token, tag = line.split("\t")
            tokens.append(token)
            tags.append(tag)
        elif tokens:
            sentences.append((tokens, tags))
            tokens, tags = [], []
    assert not tokens
    return sentences


def shuffled_indices(n: int, seed: int) -> list[int]:
    """The order `Dataset.shuffle(seed)` puts n rows in, computed with datasets directly."""
    return datasets.Dataset.from_dict({"i": list(range(n))}).shuffle(seed=seed)["i"]


def rows(ds: datasets.Dataset) -> list[tuple[list[str], list[str]]]:
    """(tokens, tag names) per row; ds[:] reads the columns at once (iterating is slow)."""
    columns = ds[:]
    return [
        (tokens, [TAGS[t] for t in tags])
        for tokens, tags in zip(columns["tokens"], columns["ner_tags"], strict=True)
    ]


@pytest.fixture(scope="module")
def real_size_dir(tmp_path_factory):
    """Synthetic PAN-X of the real sizes for de, fr, it and en (about 15 s to write)."""
    directory = tmp_path_factory.mktemp("panx-real-size")
    write_synthetic_xtreme(directory, LANGS, sizes=REAL_SIZES)
    return directory


@pytest.fixture(scope="module")
def file_rows(real_size_dir):
    return {
        (lang, split): parse_plain_tsv(real_size_dir / f"{name}-{lang}.tsv")
        for lang in LANGS
        for split, name in SPLIT_FILES.items()
    }


@pytest.fixture(scope="module")
def corpus(real_size_dir):
    return load_corpus(LANGS, real_size_dir, fractions=REPORT_FRACTIONS)


def test_synthetic_files_have_the_real_sizes(file_rows):
    for (_, split), sentences in file_rows.items():
        assert len(sentences) == REAL_SIZES[split]


def test_load_corpus_split_sizes_are_the_reports(corpus):
    assert list(corpus) == list(LANGS)
    assert {lang: dict(dd.num_rows) for lang, dd in corpus.items()} == REPORT_SIZES


def test_load_corpus_keeps_the_first_rows_after_shuffle_seed_0(corpus, file_rows):
    for lang in LANGS:
        for split in SPLIT_FILES:
            full = file_rows[lang, split]
            order = shuffled_indices(len(full), seed=0)[: REPORT_SIZES[lang][split]]
            assert rows(corpus[lang][split]) == [full[i] for i in order], (lang, split)
            assert corpus[lang][split].features == FEATURES


def test_load_corpus_without_fractions_keeps_full_splits_in_file_order(real_size_dir, file_rows):
    full = load_corpus(["en"], real_size_dir, fractions=None)
    assert list(full) == ["en"]
    for lang in ("en",):
        assert dict(full[lang].num_rows) == REAL_SIZES
        for split in SPLIT_FILES:
            assert rows(full[lang][split]) == file_rows[lang, split]


def test_load_corpus_with_other_fractions_and_seed(real_size_dir, file_rows):
    corpus = load_corpus(["en"], real_size_dir, fractions={"en": 0.5}, seed=7)
    assert dict(corpus["en"].num_rows) == {"train": 10_000, "validation": 5_000, "test": 5_000}
    full = file_rows["en", "test"]
    assert rows(corpus["en"]["test"]) == [full[i] for i in shuffled_indices(10_000, 7)[:5_000]]


def test_a_language_without_a_fraction_keeps_whole_splits(tmp_path):
    """As a study without fractions does: every row, in file order, beside a sampled one."""
    write_tsv_files(tmp_path, "it")
    write_tsv_files(tmp_path, "de")
    corpus = load_corpus(["de", "it"], tmp_path, fractions={"de": 0.5})
    assert_panx(corpus["it"], "it")
    assert dict(corpus["de"].num_rows) == {"train": 2, "validation": 1, "test": 1}


def test_sample_fraction_keeps_int_of_fraction_times_rows():
    sentences = [([f"w{i}"], ["O"]) for i in range(10)]
    ds = datasets.Dataset.from_dict(expected_columns(sentences, "de"), features=FEATURES)
    dd = datasets.DatasetDict({"train": ds, "test": ds.select(range(7))})
    # train: int(0.35 * 10) = int(3.5) = 3 rows (rounding would keep 4);
    # test: int(0.35 * 7) = int(2.45) = 2 rows.
    sampled = sample_fraction(dd, 0.35, seed=5)
    assert sampled["train"]["tokens"] == [[f"w{i}"] for i in shuffled_indices(10, 5)[:3]]
    assert sampled["test"]["tokens"] == [[f"w{i}"] for i in shuffled_indices(7, 5)[:2]]
    assert sample_fraction(dd, 1.0, seed=5).num_rows == {"train": 10, "test": 7}


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_sample_fraction_rejects_fractions_outside_0_1(fraction):
    dd = synthetic_panx("en", {"train": 10})
    with pytest.raises(ValueError, match="fraction"):
        sample_fraction(dd, fraction, seed=0)


def test_few_shot_subsets_nest_and_follow_shuffle_seed_42(corpus):
    train = corpus["fr"]["train"]
    assert train.num_rows == 4_580
    all_rows = rows(train)
    order = shuffled_indices(train.num_rows, seed=42)
    subsets = {n: few_shot_subset(train, n) for n in (250, 500, 1000, 2000, 4000)}
    for n, subset in subsets.items():
        assert subset.num_rows == n
        assert subset.features == FEATURES
        assert rows(subset) == [all_rows[i] for i in order[:n]], n
    assert rows(subsets[500])[:250] == rows(subsets[250])
    assert rows(subsets[4000])[:2000] == rows(subsets[2000])


@pytest.mark.parametrize("n", [0, -1, 4_581])
def test_few_shot_subset_out_of_range_raises(corpus, n):
    with pytest.raises(ValueError, match=str(n)):
        few_shot_subset(corpus["fr"]["train"], n)


def test_few_shot_subset_of_all_rows(corpus):
    train = corpus["fr"]["train"]
    assert few_shot_subset(train, 4_580).num_rows == 4_580


def test_concat_languages_sizes_and_shuffle_seed_42(corpus):
    both = concat_languages(corpus, ["de", "fr"])
    assert sorted(both) == ["train", "validation"]
    assert dict(both.num_rows) == {"train": 12_580 + 4_580, "validation": 6_290 + 2_290}
    for split in ("train", "validation"):
        joined = rows(corpus["de"][split]) + rows(corpus["fr"][split])
        order = shuffled_indices(len(joined), seed=42)
        assert rows(both[split]) == [joined[i] for i in order], split
        assert both[split].features == FEATURES


def test_concat_languages_all_four(corpus):
    every = concat_languages(corpus, LANGS)
    assert every.num_rows == {
        "train": 12_580 + 4_580 + 1_680 + 1_180,
        "validation": 6_290 + 2_290 + 840 + 590,
    }
    langs = {row[0] for row in every["train"]["langs"]}
    assert langs == set(LANGS)


def test_concat_languages_missing_language_raises(corpus):
    with pytest.raises(KeyError, match="ar"):
        concat_languages(corpus, ["de", "ar"])


def test_a_line_of_only_a_tab_is_malformed_not_a_sentence_break(tmp_path):
    path = tmp_path / "train-de.tsv"
    path.write_bytes(b"Berlin\tB-LOC\n\t\nist\tO\n\n")
    with pytest.raises(CorpusError, match=r"train-de\.tsv:2: empty token"):
        read_xtreme(path, "de")
