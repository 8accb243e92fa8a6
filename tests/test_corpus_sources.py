"""PAN-X's built-in sources are corpus sources of the `[corpus.<lang>]` mechanism: one reader
per format reads a PAN-X folder and a study's corpus file the same, a study's top-level
`data = "hub:NAME"` reads a hub-shaped dataset through the hub's own loader (a local copy
here: the hub cannot be reached), and a language outside the fractions keeps whole splits.

Files and expected rows are written here by hand."""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import pytest

from xner.data.corpus import load_study_corpus, study_tags
from xner.data.panx import FEATURES, load_panx
from xner.spec.labels import TAGS
from xner.spec.study import StudyError, load_study

SENTENCES = {
    "train": [(["Angela", "Merkel", "in", "Paris"], ["B-PER", "I-PER", "O", "B-LOC"])],
    "validation": [(["Die", "Bahn", "AG"], ["O", "B-ORG", "I-ORG"])],
    "test": [(["Siemens", "in", "Erlangen"], ["B-ORG", "O", "B-LOC"]), (["Köln"], ["B-LOC"])],
}
FILES = {"train": "train", "validation": "dev", "test": "test"}


@pytest.fixture(autouse=True)
def _datasets_cache_in_tmp(tmp_path, monkeypatch):
    """Keep the Arrow cache of load_dataset's reads of these files out of ~/.cache."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def columns(sentences, lang: str, names=TAGS) -> dict:
    return {
        "tokens": [list(tokens) for tokens, _ in sentences],
        "ner_tags": [[list(names).index(t) for t in tags] for _, tags in sentences],
        "langs": [[lang] * len(tokens) for tokens, _ in sentences],
    }


def study_file(folder: Path, body: str) -> Path:
    path = folder / "s.toml"
    path.write_text(
        f'model = "tiny"\n{body}\n[strategies.z]\ntrain = ["de"]\neval = ["de"]\n', "utf-8"
    )
    return path


def corpus_table(fmt: str, paths: dict[str, Path]) -> str:
    files = "".join(f'{split} = "{path.as_posix()}"\n' for split, path in paths.items())
    return f'[corpus.de]\nformat = "{fmt}"\nscheme = "iob2"\n{files}'


def assert_same(a: datasets.DatasetDict, b: datasets.DatasetDict) -> None:
    assert list(a) == list(b) == ["train", "validation", "test"]
    for split in a:
        assert a[split].features == b[split].features == FEATURES
        assert a[split].to_dict() == b[split].to_dict() == columns(SENTENCES[split], "de")


@pytest.mark.parametrize("raw", [False, True])
def test_one_tsv_reader_for_a_panx_folder_and_a_corpus_file(tmp_path, raw):
    folder = tmp_path / "panx"
    folder.mkdir()
    for split, sentences in SENTENCES.items():
        lines = ["\n".join(f"{'de:' * raw}{t}\t{g}" for t, g in zip(*s, strict=True)) + "\n"
                 for s in sentences]  # fmt: skip
        (folder / f"{FILES[split]}-de.tsv").write_text("\n".join(lines), encoding="utf-8")
    paths = {split: folder / f"{FILES[split]}-de.tsv" for split in SENTENCES}
    study = load_study(study_file(tmp_path, corpus_table("xtreme", paths)))
    assert_same(load_panx("de", folder), load_study_corpus(study, "de", study.data, None)["de"])
    # One reader, one message: a broken line reads the same from either side.
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in paths.values():
        (broken / path.name).write_bytes(path.read_bytes())
    (broken / "test-de.tsv").write_text("Siemens\tB-ORG\nErlangen B-LOC\n", encoding="utf-8")
    study = load_study(
        study_file(broken, corpus_table("xtreme", {s: broken / p.name for s, p in paths.items()}))
    )
    expected = re.escape(f"{broken / 'test-de.tsv'}:2: one column ('Erlangen B-LOC')")
    with pytest.raises(ValueError, match=expected):
        load_panx("de", broken)
    with pytest.raises(ValueError, match=expected):
        load_study_corpus(study, "de", study.data, None)


def test_one_parquet_reader_for_a_panx_folder_and_a_corpus_file(tmp_path):
    folder = tmp_path / "PAN-X.de"
    folder.mkdir()
    for split, sentences in SENTENCES.items():
        ds = datasets.Dataset.from_dict(columns(sentences, "de"), features=FEATURES)
        ds.to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))
    paths = {split: folder / f"{split}-00000-of-00001.parquet" for split in SENTENCES}
    study = load_study(study_file(tmp_path, corpus_table("parquet", paths)))
    assert_same(load_panx("de", tmp_path), load_study_corpus(study, "de", study.data, None)["de"])


# A MasakhaNER-like dataset: its own ClassLabel names (DATE), one configuration per language,
# laid out as on the hub: <config>/<split>-*.parquet and a README that names the configs.
NAMES = ["O", "B-PER", "I-PER", "B-DATE", "I-DATE"]
ROWS = {
    "sw": [(["Juma", "Jumatatu"], ["B-PER", "B-DATE"]), (["leo"], ["O"])],
    "yo": [(["Ade", "ni", "Ojo", "Aje"], ["B-PER", "O", "B-DATE", "I-DATE"])],
}


def local_hub_dataset(folder: Path) -> Path:
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=NAMES)),
        }
    )
    configs = []
    for lang, sentences in ROWS.items():
        configs.append(f"- config_name: {lang}\n  data_files:\n")
        for split in ("train", "validation", "test"):
            data = columns(sentences, lang, NAMES)
            data = {"id": [str(i) for i in range(len(sentences))], "tokens": data["tokens"],
                    "ner_tags": data["ner_tags"]}  # fmt: skip
            path = folder / lang / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_dict(data, features=features).to_parquet(str(path))
            configs.append(f"  - split: {split}\n    path: {lang}/{split}-*.parquet\n")
    (folder / "README.md").write_text("---\nconfigs:\n" + "".join(configs) + "---\n", "utf-8")
    return folder


def test_top_level_hub_data_reads_each_language_as_its_configuration(tmp_path):
    hub = local_hub_dataset(tmp_path / "masakhaner")
    (tmp_path / "s.toml").write_text(
        f'model = "tiny"\ndata = "hub:{hub.as_posix()}"\nlanguages = ["sw", "yo"]\n'
        '[strategies.z]\ntrain = ["sw"]\neval = ["sw", "yo"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "s.toml")
    assert study.data == f"hub:{hub.as_posix()}" and study.corpus is None
    assert study_tags(study) == ("O", "B-PER", "I-PER", "B-DATE", "I-DATE")
    for lang, sentences in ROWS.items():
        dd = load_study_corpus(study, lang, study.data, None)[lang]
        names = dd["test"].features["ner_tags"].feature.names
        assert dd["test"]["tokens"] == [tokens for tokens, _ in sentences]
        assert [[names[t] for t in row] for row in dd["test"]["ner_tags"]] == [
            tags for _, tags in sentences
        ]
        assert dd["test"]["langs"] == [[lang] * len(tokens) for tokens, _ in sentences]


def test_top_level_hub_data_needs_its_languages_listed(tmp_path):
    (tmp_path / "s.toml").write_text(
        'model = "tiny"\ndata = "hub:someone/ner"\n[strategies.z]\ntrain = ["sw"]\neval = "all"\n',
        encoding="utf-8",
    )
    with pytest.raises(StudyError, match=r"s\.toml: languages: list them"):
        load_study(tmp_path / "s.toml")
    (tmp_path / "s.toml").write_text(
        'model = "tiny"\ndata = "hub:"\n[strategies.z]\ntrain = ["sw"]\neval = ["sw"]\n', "utf-8"
    )
    with pytest.raises(StudyError, match=r"s\.toml: data: hub:NAME names"):
        load_study(tmp_path / "s.toml")


def test_a_language_outside_the_base_studys_fractions_gets_whole_splits(tmp_path):
    # The smoke study's fractions name de, fr, it and en; a folder adds Swahili.
    from xner.data.panx import synthetic_panx, write_xtreme

    data = tmp_path / "data"
    sizes = {"train": 30, "validation": 10, "test": 10}
    for lang in ("sw", "de"):
        write_xtreme(synthetic_panx("de", sizes, seed=1), data, lang)
    (tmp_path / "s.toml").write_text(
        f'base = "smoke"\ndata = "{data.as_posix()}"\nlanguages = ["de", "sw"]\n'
        '[strategies.z]\ntrain = ["de"]\neval = ["de", "sw"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "s.toml")
    assert "sw" not in study.fractions and study.fractions["de"] == 0.3145
    sw = load_study_corpus(study, "sw", study.data, study.fractions)["sw"]
    whole = load_study_corpus(study, "sw", study.data, None)["sw"]
    assert dict(sw.num_rows) == sizes
    for split in sizes:
        assert sw[split]["tokens"] == whole[split]["tokens"], "whole, in file order"
    de = load_study_corpus(study, "de", study.data, study.fractions)["de"]
    assert dict(de.num_rows) == {s: int(0.3145 * n) for s, n in sizes.items()}
