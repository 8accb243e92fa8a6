"""CoNLL column files and tagging schemes: files written here by hand, in the layouts of
CoNLL-2002 (IOB2, Latin-1) and CoNLL-2003 (IOB1, four columns, -DOCSTART-), and the one-line
errors bad files give."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data.conll import read_conll, write_conll
from xner.spec.schemes import CorpusError, check_tags, detect_scheme, from_iob2, to_iob2

# CoNLL-2003's layout (eng.train): IOB1, `token POS chunk tag`, documents between -DOCSTART-.
ENG = """\
-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

In IN I-PP O
Rome NNP I-NP I-LOC
Paris NNP I-NP B-LOC
and CC O O
John NNP I-NP I-PER
"""


def write(tmp_path: Path, text: str | bytes, name: str = "eng.train") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_conll2003_layout_reads_as_iob2_sentences_with_docstart_skipped(tmp_path):
    read = read_conll(write(tmp_path, ENG))
    assert read.scheme == "iob1"
    assert read.sentences == [
        (["EU", "rejects", "German", "call", "."], ["B-ORG", "O", "B-MISC", "O", "O"]),
        (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
        # "Rome Paris": two adjacent LOC entities, split by IOB1's B-.
        (["In", "Rome", "Paris", "and", "John"], ["O", "B-LOC", "B-LOC", "O", "B-PER"]),
    ]


def test_conll2002_layout_latin1_two_and_three_columns(tmp_path):
    text = "La DA O\nCoruña NC B-LOC\n\nMadrid B-LOC\nEspaña I-LOC\n".encode("latin-1")
    path = write(tmp_path, text, "esp.train")
    read = read_conll(path, encoding="latin-1", scheme="iob2")
    assert read.sentences == [
        (["La", "Coruña"], ["O", "B-LOC"]),
        (["Madrid", "España"], ["B-LOC", "I-LOC"]),
    ]
    with pytest.raises(CorpusError) as err:
        read_conll(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: byte 0xf1 at offset 12 is not utf-8")
    assert 'try `encoding = "latin-1"`' in message
    assert "\n" not in message


def test_tabs_windows_line_ends_and_no_trailing_blank_line(tmp_path):
    read = read_conll(write(tmp_path, "Ana\tB-PER\r\nvive\tO\r\n\r\nen\tO\r\nLima\tB-LOC"))
    assert read.sentences == [(["Ana", "vive"], ["B-PER", "O"]), (["en", "Lima"], ["O", "B-LOC"])]


def test_bioes_and_bilou_files_read_as_iob2(tmp_path):
    bioes = read_conll(write(tmp_path, "a S-PER\nb B-ORG\nc I-ORG\nd E-ORG\ne O\n"))
    assert bioes.scheme == "bioes"
    assert bioes.sentences == [(list("abcde"), ["B-PER", "B-ORG", "I-ORG", "I-ORG", "O"])]
    bilou = read_conll(write(tmp_path, "a U-PER\nb B-ORG\nc L-ORG\n", "b.txt"))
    assert bilou.scheme == "bilou"
    assert bilou.sentences == [(list("abc"), ["B-PER", "B-ORG", "I-ORG"])]


@pytest.mark.parametrize(
    ("text", "scheme", "line", "words"),
    [
        ("a O\nlonely\n", "auto", 2, "one column ('lonely')"),
        ("a O\nb X-PER\n", "auto", 2, "tag 'X-PER' is not in the iob2 scheme (O or B-TYPE"),
        ("a B-\n", "auto", 1, "tag 'B-' is not in the iob2 scheme"),
        ("a O\n\nb O\nc I-PER\n", "iob2", 4, "in IOB2 an I- tag continues a B-PER or I-PER"),
        ("a B-PER\nb O\n", "bioes", 2, "comes inside the entity PER, which is not closed"),
        ("a O\nb E-LOC\n", "bioes", 2, "does not continue an entity opened by B-LOC"),
        ("a S-PER\nb I-PER\n", "auto", 2, "does not continue an entity opened by B-PER"),
        ("a E-PER\n", "iob2", 1, "tag 'E-PER' is not in the iob2 scheme (O or B-TYPE, I-TYPE)"),
    ],
)
def test_bad_files_are_one_line_naming_file_and_line(tmp_path, text, scheme, line, words):
    path = write(tmp_path, text)
    with pytest.raises(CorpusError) as err:
        read_conll(path, scheme=scheme)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: ")
    assert words in message
    assert "\n" not in message


def test_a_file_without_sentences_and_a_missing_file(tmp_path):
    path = write(tmp_path, "-DOCSTART- -X- -X- O\n\n\n")
    with pytest.raises(CorpusError, match=r"eng\.train: no sentences"):
        read_conll(path)
    with pytest.raises(CorpusError, match=r"nope\.txt: no such file"):
        read_conll(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match=r"scheme 'iob3'; accepted: auto, iob1"):
        read_conll(path, scheme="iob3")


def test_written_file_reads_back_in_every_scheme(tmp_path):
    sentences = [
        (["Rome", "Paris", "and", "New", "York"], ["B-LOC", "B-LOC", "O", "B-LOC", "I-LOC"]),
        (["x"], ["O"]),
    ]
    expected_text = {
        "iob1": "Rome I-LOC\nParis B-LOC\nand O\nNew I-LOC\nYork I-LOC\n",
        "bioes": "Rome S-LOC\nParis S-LOC\nand O\nNew B-LOC\nYork E-LOC\n",
        "bilou": "Rome U-LOC\nParis U-LOC\nand O\nNew B-LOC\nYork L-LOC\n",
    }
    for scheme, text in expected_text.items():
        path = write_conll(sentences, tmp_path / f"{scheme}.txt", scheme=scheme)
        assert path.read_text(encoding="utf-8").startswith(text)
        read = read_conll(path)
        assert (read.scheme, read.sentences) == (scheme, sentences)


def test_scheme_functions_on_hand_examples():
    assert detect_scheme([["O", "I-PER"]]) == "iob1"
    assert detect_scheme([["B-PER", "I-PER"], ["O"]]) == "iob2"
    assert detect_scheme([["O"]]) == "iob2"
    assert to_iob2(["I-PER", "I-PER", "B-PER", "I-ORG"], "iob1") == [
        "B-PER", "I-PER", "B-PER", "B-ORG",
    ]  # fmt: skip
    assert from_iob2(["B-PER", "I-PER", "B-PER", "B-ORG"], "iob1") == [
        "I-PER", "I-PER", "B-PER", "I-ORG",
    ]  # fmt: skip
    check_tags(["I-PER", "B-PER", "O", "I-LOC"], "iob1")  # IOB1 allows any order
