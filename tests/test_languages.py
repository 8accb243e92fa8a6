"""Which languages each data source has, and which codes `check_lang` accepts for it.

Expected lists are written here from their sources: XTREME's 40 PAN-X languages, and WikiANN's
176 configs as unimelb-nlp/wikiann's dataset card and loading script name them.
"""

from __future__ import annotations

import pytest

from xner.spec.languages import (
    BUILT_IN_SOURCES,
    PANX_LANGS,
    SYNTHETIC_LANGS,
    WIKIANN_LANGS,
    check_lang,
    source_languages,
)

# Configs of unimelb-nlp/wikiann that are not ISO 639-1 codes: Wikipedia's own names, hyphen
# included, and the three-letter codes of smaller Wikipedias.
WIKIANN_ONLY = ("ace", "bat-smg", "be-x-old", "cbk-zam", "fiu-vro", "map-bms", "simple", "zea")
WIKIANN_CHINESE = ("zh", "zh-classical", "zh-min-nan", "zh-yue")


def test_built_in_sources():
    assert set(BUILT_IN_SOURCES) == {"hub", "wikiann", "synthetic"}
    assert source_languages("hub") == PANX_LANGS
    assert source_languages("wikiann") == WIKIANN_LANGS
    assert source_languages("synthetic") == SYNTHETIC_LANGS


def test_panx_has_xtremes_40_languages():
    assert len(PANX_LANGS) == len(set(PANX_LANGS)) == 40
    for lang in ("ja", "zh", "th", "ar", "he", "fa", "ur"):  # no spaces; right to left
        assert lang in PANX_LANGS


def test_wikiann_has_176_configs_including_every_panx_language():
    assert len(WIKIANN_LANGS) == len(set(WIKIANN_LANGS)) == 176
    assert list(WIKIANN_LANGS) == sorted(WIKIANN_LANGS)
    assert set(PANX_LANGS) <= set(WIKIANN_LANGS)
    assert set(WIKIANN_ONLY + WIKIANN_CHINESE) <= set(WIKIANN_LANGS)
    assert "no" in WIKIANN_LANGS  # Norwegian: a string, whatever YAML makes of it


@pytest.mark.parametrize("lang", [*WIKIANN_ONLY, "zh-yue"])
def test_wikiann_codes_are_refused_for_google_xtreme(lang):
    assert check_lang(lang, "wikiann") == lang
    with pytest.raises(ValueError, match=f"unknown language '{lang}' for 'hub' data"):
        check_lang(lang, "hub")


def test_iso_code_that_wikiann_names_otherwise_is_refused_with_the_list():
    # The card's `language:` metadata says "yue"; the config (what load_dataset takes) is
    # "zh-yue". The refusal lists the configs, so the right name is in the message.
    with pytest.raises(ValueError, match=r"'yue' for 'wikiann'.*\bzh-yue\b"):
        check_lang("yue", "wikiann")


@pytest.mark.parametrize("source", ["hub", "wikiann", "synthetic"])
def test_unknown_code_of_a_built_in_source_is_named(source):
    with pytest.raises(ValueError, match=f"'xx'.*'{source}'"):
        check_lang("xx", source)


@pytest.mark.parametrize("lang", ["qaa", "xx", "de-CH", "zh-yue", "nds_nl", "x1"])
def test_a_folder_accepts_any_code(tmp_path, lang):
    assert check_lang(lang, str(tmp_path)) == lang


@pytest.mark.parametrize("lang", ["", "1de", "de/..", "../de", "de.x", "de de", "de\n", None])
def test_what_is_not_a_code_is_refused_for_every_source(tmp_path, lang):
    for source in (*BUILT_IN_SOURCES, str(tmp_path)):
        with pytest.raises(ValueError, match="not a language code"):
            check_lang(lang, source)


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_a_folders_languages_from_every_layout(tmp_path):
    touch(tmp_path / "train-qaa.tsv")  # XTREME's TSV in the folder
    touch(tmp_path / "qab" / "train-qab.tsv")  # ... or in <lang>/
    touch(tmp_path / "PAN-X.ja" / "train-00000-of-00001.parquet")  # google/xtreme's parquet
    touch(tmp_path / "zh-yue" / "train-00000-of-00001.parquet")  # unimelb-nlp/wikiann's
    assert source_languages(str(tmp_path)) == ("ja", "qaa", "qab", "zh-yue")


def test_a_folders_files_that_name_no_language_are_left_out(tmp_path):
    touch(tmp_path / "dev-qaa.tsv")  # no train file
    touch(tmp_path / "qab" / "train-other.tsv")  # the folder and the file disagree
    touch(tmp_path / "notes" / "readme.txt")
    touch(tmp_path / "train-.tsv")  # no code at all
    touch(tmp_path / "PAN-X." / "train-00000-of-00001.parquet")
    touch(tmp_path / "de.bak" / "train-00000-of-00001.parquet")  # not a code
    assert source_languages(str(tmp_path)) == ()


def test_an_empty_folder_has_no_languages(tmp_path):
    assert source_languages(str(tmp_path)) == ()


def test_a_source_that_is_neither_built_in_nor_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="'nowhere'.*hub, wikiann, synthetic"):
        source_languages("nowhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="file"):
        source_languages(str(tmp_path / "file"))
