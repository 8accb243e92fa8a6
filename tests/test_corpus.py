"""Any NER corpus as a study's data: `[corpus.<lang>]` tables with CoNLL files (IOB1, Latin-1),
hub-shaped local copies (save_to_disk, parquet) with their own ClassLabel names, the study's
tag set, the label map, and one training end to end with a head of the corpus's size.

Files and expected rows are written here by hand."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from xner.data.corpus import load_study_corpus, study_tags
from xner.spec.labels import TAGS
from xner.spec.schemes import CorpusError
from xner.spec.study import StudyError, load_study

# CoNLL-2003's layout: IOB1 tags, `token POS chunk tag`.
EN_TRAIN = """\
-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
visits VBZ I-VP O
Rome NNP I-NP I-LOC
"""
EN_TEST = "John NNP I-NP I-PER\nin IN I-PP O\nParis NNP I-NP I-LOC\nBerlin NNP I-NP B-LOC\n"
# CoNLL-2002's original Spanish: Latin-1, IOB2, `token tag`, no MISC in this test file.
ES_TEST = "La O\nCoruña B-LOC\nes O\nde O\nMaría B-PER\n"
NINE = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def conll_study(tmp_path: Path, extra: str = "", es: str = "") -> Path:
    (tmp_path / "conll2003").mkdir(exist_ok=True)
    for name, text in (("eng.train", EN_TRAIN), ("eng.testa", EN_TRAIN), ("eng.testb", EN_TEST)):
        (tmp_path / "conll2003" / name).write_text(text, encoding="utf-8")
    (tmp_path / "esp.testb").write_bytes(ES_TEST.encode("latin-1"))
    study = tmp_path / "conll.toml"
    study.write_text(
        f"""\
model = "tiny"
{extra}
[recipe]
epochs = 1

[corpus.en]
train = "conll2003/eng.train"
validation = "conll2003/eng.testa"
test = "conll2003/eng.testb"
format = "conll"
scheme = "auto"

[corpus.es]
test = "esp.testb"
{es or 'encoding = "latin-1"'}

[strategies.zero-shot]
train = ["en"]
eval = ["en", "es"]
""",
        encoding="utf-8",
    )
    return study


def names_of(dd: datasets.DatasetDict, split: str) -> list[list[str]]:
    names = dd[split].features["ner_tags"].feature.names
    return [[names[t] for t in row] for row in dd[split]["ner_tags"]]


def test_conll_corpus_loads_as_iob2_with_the_union_of_types(tmp_path):
    study = load_study(conll_study(tmp_path))
    assert study.languages == ("en", "es")
    assert study_tags(study) == NINE
    en = load_study_corpus(study, "en", study.data, None)["en"]
    assert list(en) == ["train", "validation", "test"]
    assert en["train"]["tokens"][0] == ["EU", "rejects", "German", "call"]
    assert names_of(en, "train") == [
        ["B-ORG", "O", "B-MISC", "O"],
        ["B-PER", "I-PER", "O", "B-LOC"],
    ]
    assert names_of(en, "test") == [["B-PER", "O", "B-LOC", "B-LOC"]]
    es = load_study_corpus(study, "es", study.data, None)["es"]
    assert list(es) == ["test"]
    assert es["test"]["tokens"] == [["La", "Coruña", "es", "de", "María"]]
    assert es["test"]["langs"] == [["es"] * 5]
    assert names_of(es, "test") == [["O", "B-LOC", "O", "O", "B-PER"]]


def test_pan_x_studies_keep_pan_x_tags():
    assert study_tags(load_study("smoke")) == TAGS
    assert study_tags(load_study("report")) == TAGS


def test_label_map_drops_a_type_and_declared_types_order_the_head(tmp_path):
    study = load_study(conll_study(tmp_path, '[labels]\nmap = { MISC = "O" }'))
    assert study_tags(study) == NINE[:7]
    en = load_study_corpus(study, "en", study.data, None)["en"]
    assert names_of(en, "train")[0] == ["B-ORG", "O", "O", "O"]
    declared = load_study(conll_study(tmp_path, 'entity_types = ["LOC", "PER", "ORG", "MISC"]'))
    assert study_tags(declared)[:5] == ("O", "B-LOC", "I-LOC", "B-PER", "I-PER")


def test_a_type_outside_the_declared_ones_names_file_and_fix(tmp_path):
    study = load_study(conll_study(tmp_path, 'entity_types = ["PER", "ORG", "LOC"]'))
    with pytest.raises(CorpusError) as err:
        load_study_corpus(study, "en", study.data, None)
    message = str(err.value)
    assert "eng.train: train sentence 1: entity type 'MISC' is not among" in message
    assert '[labels] map = { MISC = "O" }' in message


@pytest.mark.parametrize(
    ("es", "problem"),
    [
        ('encoding = "latin-1"\nformat = "csv"', "corpus.es.format: 'csv'; accepted: conll"),
        ('encoding = "latin-1"\nscheme = "iob3"', "corpus.es.scheme: 'iob3'; accepted: auto"),
        ('encoding = "latin-9x"', "corpus.es.encoding: unknown encoding 'latin-9x'"),
        ('encoding = "latin-1"\ncolour = 1', "corpus.es.colour: unknown key"),
    ],
)
def test_bad_corpus_tables_name_the_key(tmp_path, es, problem):
    with pytest.raises(StudyError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        load_study(conll_study(tmp_path, es=es))


def test_missing_test_or_train_file_is_refused_when_the_study_loads(tmp_path):
    path = conll_study(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('test = "esp.testb"', 'validation = "esp.testb"'), "utf-8")
    with pytest.raises(StudyError, match=r"conll\.toml: corpus\.es: no test file"):
        load_study(path)
    path.write_text(text.replace("eng.testb", "eng.testc"), "utf-8")
    with pytest.raises(StudyError, match=r"corpus\.en\.test: no file .*eng\.testc"):
        load_study(path)
    path.write_text(text.replace('train = ["en"]', 'train = ["es"]'), "utf-8")
    with pytest.raises(StudyError, match=r"corpus\.es: no train and no validation file, but"):
        load_study(path)


def test_a_latin1_file_read_as_utf8_is_one_line_with_the_advice(tmp_path):
    study = load_study(conll_study(tmp_path, es='encoding = "utf-8"'))
    with pytest.raises(CorpusError) as err:
        study_tags(study)
    assert str(err.value).startswith(f"{tmp_path / 'esp.testb'}:2: byte 0xf1")
    assert 'try `encoding = "latin-1"`' in str(err.value)


def hub_shaped(names: list[str], rows: dict[str, list[tuple[list[str], list[str]]]]):
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "id": [str(i) for i in range(len(sents))],
                    "tokens": [t for t, _ in sents],
                    "ner_tags": [[names.index(x) for x in tags] for _, tags in sents],
                },
                features=features,
            )
            for split, sents in rows.items()
        }
    )


# wnut_17's shape: its own names, in its own order, lower-case types.
WNUT_NAMES = ["O", "B-corporation", "I-corporation", "B-person", "I-person"]
WNUT_ROWS = {
    "train": [
        (["Apple", "Inc", "hires", "Tim"], ["B-corporation", "I-corporation", "O", "B-person"])
    ],
    "validation": [(["Tim", "Cook"], ["B-person", "I-person"])],
    "test": [(["ask", "Google"], ["O", "B-corporation"])],
}


@pytest.mark.parametrize("layout", ["save_to_disk", "parquet"])
def test_hub_shaped_local_copy_with_its_own_names(tmp_path, layout):
    dd = hub_shaped(WNUT_NAMES, WNUT_ROWS)
    if layout == "save_to_disk":
        dd.save_to_disk(str(tmp_path / "wnut"))
    else:
        for split, ds in dd.items():
            (tmp_path / "wnut").mkdir(exist_ok=True)
            ds.to_parquet(str(tmp_path / "wnut" / f"{split}-00000-of-00001.parquet"))
    (tmp_path / "wnut.toml").write_text(
        'model = "tiny"\n[corpus.en]\ndata = "wnut"\n'
        '[strategies.full]\ntrain = ["en"]\neval = ["en"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "wnut.toml")
    assert study_tags(study) == ("O", "B-corporation", "I-corporation", "B-person", "I-person")
    en = load_study_corpus(study, "en", study.data, None)["en"]
    for split, sentences in WNUT_ROWS.items():
        assert en[split]["tokens"] == [t for t, _ in sentences]
        assert names_of(en, split) == [tags for _, tags in sentences]


def test_hub_shaped_iob1_names_are_converted(tmp_path):
    names = ["O", "I-PER", "B-PER"]
    sentence = (["Ann", "Bob", "x", "Eve"], ["I-PER", "B-PER", "O", "I-PER"])
    hub_shaped(names, dict.fromkeys(("train", "validation", "test"), [sentence])).save_to_disk(
        str(tmp_path / "old")
    )
    text = 'model = "tiny"\n[corpus.en]\ndata = "old"\n[strategies.z]\ntrain = ["en"]\n'
    (tmp_path / "s.toml").write_text(text + 'eval = ["en"]\n', encoding="utf-8")
    study = load_study(tmp_path / "s.toml")
    assert study_tags(study) == ("O", "B-PER", "I-PER")
    en = load_study_corpus(study, "en", study.data, None)["en"]
    assert names_of(en, "test") == [["B-PER", "B-PER", "O", "B-PER"]]
    (tmp_path / "s.toml").write_text(text + 'eval = ["en", "de"]\n', encoding="utf-8")
    with pytest.raises(StudyError, match=r"strategies\.z\.eval: no \[corpus\.de\] for 'de'"):
        load_study(tmp_path / "s.toml")


def test_a_corpus_study_trains_a_head_of_its_size_and_states_absent_types(tmp_path):
    from xner.execution.runner import Runner
    from xner.reporting.tables import tables

    study = load_study(conll_study(tmp_path))
    runner = Runner(study, progress=False)
    config = study.strategies["zero-shot"].configs()[0]
    results = runner.run(config, seed=0)
    assert runner._last[1].model.config.id2label == dict(enumerate(NINE))
    assert runner._last[1].model.classifier.out_features == 9
    en, es = results
    assert (en.eval_lang, es.eval_lang) == ("en", "es")
    assert en.entity_types == es.entity_types == ["PER", "ORG", "LOC", "MISC"]
    # Spanish's test file has no MISC and no ORG: no F1 for them, whatever was predicted.
    assert "MISC" not in es.per_type and "ORG" not in es.per_type
    table = tables(results)
    header = next(line for line in table.splitlines() if line.startswith("| strategy"))
    assert [c.strip() for c in header.strip("|").split("|")][3:] == ["PER", "ORG", "LOC", "MISC"]
    es_row = next(line for line in table.splitlines() if "| es " in line and "zero-shot" in line)
    assert es_row.count("not in test") == 2


def test_synthetic_conll_files_are_iob1_in_conll2003_layout(tmp_path):
    from seqeval.metrics.sequence_labeling import get_entities

    from xner.data.conll import read_conll
    from xner.data.synthetic import synthetic_sentences
    from xner.data.synthetic_conll import synthetic_conll_sentences, write_synthetic_conll

    sizes = {"train": 60, "validation": 5, "test": 5}
    paths = write_synthetic_conll(tmp_path, "en", sizes)
    lines = paths["train"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O" and lines[1] == ""
    assert lines.count("-DOCSTART- -X- -X- O") == 3  # 20 sentences a document
    words = [line.split(" ") for line in lines if line and not line.startswith("-DOCSTART-")]
    assert all(len(w) == 4 and w[1:3] == ["NN", "I-NP"] for w in words)
    read = read_conll(paths["train"])
    assert read.scheme == "iob1"
    assert read.sentences == synthetic_conll_sentences("en", "train", 60)
    original = list(synthetic_sentences("en", 60, "train"))
    types = set()
    for (words_, tags), (_, panx) in zip(read.sentences, original, strict=True):
        # MISC retypes whole entities: every span stays where PAN-X's generator put it.
        assert [e[1:] for e in get_entities(tags)] == [e[1:] for e in get_entities(panx)]
        assert len(words_) == len(tags)
        types |= {e[0] for e in get_entities(tags)}
    assert types == {"PER", "ORG", "LOC", "MISC"}


def test_the_conll_smoke_study_has_a_nine_tag_head():
    study = load_study("conll_smoke")
    assert study.mark == "conll_smoke"
    assert study_tags(study) == NINE


def test_xtreme_and_parquet_split_files_with_any_tags(tmp_path):
    # XTREME's raw TSV (with the "sw:" prefix) and hub-shaped parquet, in one study.
    (tmp_path / "train-sw.tsv").write_text(
        "sw:Juma\tB-PER\nsw:Dar es Salaam\tB-LOC\n\nsw:NBC\tB-ORG\n", encoding="utf-8"
    )
    (tmp_path / "test-sw.tsv").write_text("sw:Kamau\tB-PER\nsw:Nairobi\tB-LOC\n", "utf-8")
    names = ["O", "B-DATE", "I-DATE", "B-PER", "I-PER"]
    dd = hub_shaped(names, {"test": [(["Juni", "2020", "Ali"], ["B-DATE", "I-DATE", "B-PER"])]})
    dd["test"].to_parquet(str(tmp_path / "yo-test.parquet"))
    (tmp_path / "s.toml").write_text(
        'model = "tiny"\n'
        '[corpus.sw]\nformat = "xtreme"\ntrain = "train-sw.tsv"\nvalidation = "train-sw.tsv"\n'
        'test = "test-sw.tsv"\n'
        '[corpus.yo]\nformat = "parquet"\ntest = "yo-test.parquet"\n'
        '[strategies.z]\ntrain = ["sw"]\neval = ["sw", "yo"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "s.toml")
    assert study_tags(study) == (
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE",
    )  # fmt: skip
    sw = load_study_corpus(study, "sw", study.data, None)["sw"]
    assert sw["train"]["tokens"] == [["Juma", "Dar es Salaam"], ["NBC"]]
    assert names_of(sw, "test") == [["B-PER", "B-LOC"]]
    yo = load_study_corpus(study, "yo", study.data, None)["yo"]
    assert names_of(yo, "test") == [["B-DATE", "I-DATE", "B-PER"]]


def test_pan_x_data_with_declared_types_gets_the_declared_head(tmp_path):
    (tmp_path / "s.toml").write_text(
        'model = "tiny"\ndata = "synthetic"\nentity_types = ["LOC", "PER", "ORG", "MISC"]\n'
        '[strategies.z]\ntrain = ["de"]\neval = ["de"]\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "s.toml")
    tags = study_tags(study)
    assert tags == ("O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-MISC", "I-MISC")
    from xner.data.panx import synthetic_panx

    panx = synthetic_panx("de")
    retagged = load_study_corpus(study, "de", study.data, None)["de"]
    assert names_of(retagged, "test") == names_of(panx, "test")
    assert retagged["test"].features["ner_tags"].feature.names == list(tags)


def test_the_conll_study_file_names_the_hub_corpora():
    path = Path(__file__).parent.parent / "benchmarks" / "studies" / "conll.toml"
    study = load_study(path)
    assert study.languages == ("en", "es", "nl")
    assert study.corpus is not None
    assert [(s.data, s.config) for s in study.corpus.values()] == [
        ("hub:conll2003", None), ("hub:conll2002", "es"), ("hub:conll2002", "nl"),
    ]  # fmt: skip
    assert study.strategies["zero-shot"].eval_langs == ("en", "es", "nl")
