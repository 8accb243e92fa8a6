"""Language codes of the data sources, and which a source can give. Plain data and file names:
no torch, no datasets, so that studies are checked before anything heavy loads."""

from __future__ import annotations

import re
from pathlib import Path

# The 40 PAN-X languages XTREME distributes (configs PAN-X.<lang> of google/xtreme).
PANX_LANGS = (
    "af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi",
    "hu", "id", "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru",
    "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh",
)  # fmt: skip
# The 176 WikiANN languages of unimelb-nlp/wikiann (Rahimi et al. 2019's balanced splits of
# Pan et al. 2017), one config each: `_LANGS` of its loading script (huggingface/datasets,
# datasets/wikiann/wikiann.py), the config names its dataset card lists and its parquet files
# live under (`<config>/<split>-*.parquet`; the viewer shows "Subset (176)"). They are
# Wikipedia's codes, not ISO 639: Cantonese is "zh-yue", Samogitian "bat-smg", Simple English
# "simple". Every PAN-X language is among them.
WIKIANN_LANGS = tuple(
    """
    ace af als am an ang ar arc arz as ast ay az ba bar bat-smg be be-x-old bg bh bn bo br bs
    ca cbk-zam cdo ce ceb ckb co crh cs csb cv cy da de diq dv el eml en eo es et eu ext fa fi
    fiu-vro fo fr frr fur fy ga gan gd gl gn gu hak he hi hr hsb hu hy ia id ig ilo io is it ja
    jbo jv ka kk km kn ko ksh ku ky la lb li lij lmo ln lt lv map-bms mg mhr mi min mk ml mn mr
    ms mt mwl my mzn nap nds ne nl nn no nov oc or os pa pdc pl pms pnb ps pt qu rm ro ru rw sa
    sah scn sco sd sh si simple sk sl so sq sr su sv sw szl ta te tg th tk tl tr tt ug uk ur uz
    vec vep vi vls vo wa war wuu xmf yi yo zea zh zh-classical zh-min-nan zh-yue
    """.split()
)
SYNTHETIC_LANGS = ("de", "fr", "it", "en")  # what xner.data.synthetic generates
# Rows per split of synthetic PAN-X: a fifth of PAN-X's. Here, with the languages, so that study
# files can be checked against them without the data layer.
SYNTHETIC_SIZES = {"train": 4000, "validation": 2000, "test": 2000}
# Rows per split of XTREME's PAN-X in each of the report's languages (REPORT.md); what stands
# in for a hub dataset's sizes, which are not known offline, when scheduling.
PANX_ROWS = {"train": 20_000, "validation": 10_000, "test": 10_000}

# A local folder may hold any language: a code is letters, digits, '-' and '_' (XTREME's
# file names put it between "train-" and ".tsv"; WikiANN's configs have a '-', as in "zh-yue").
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # fullmatch: "$" would let "de\n" in
BUILT_IN_SOURCES = ("hub", "wikiann", "synthetic")
_BUILT_IN_LANGS = {"hub": PANX_LANGS, "wikiann": WIKIANN_LANGS, "synthetic": SYNTHETIC_LANGS}


def source_languages(source: str) -> tuple[str, ...]:
    """Every language `source` has: the hub's 40 (google/xtreme), WikiANN's 176
    (unimelb-nlp/wikiann), synthetic's 4, or a folder's files in any of the layouts
    `xner.spec.corpus.source_corpus` reads: `train-<lang>.tsv` there or in `<lang>/`,
    `PAN-X.<lang>/` (google/xtreme's parquet) and `<lang>/train-*.parquet` (unimelb-nlp/wikiann's
    parquet)."""
    if source in _BUILT_IN_LANGS:
        return _BUILT_IN_LANGS[source]
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(
            f"data source {source!r} is not a folder, nor one of {', '.join(BUILT_IN_SOURCES)}"
        )
    found = {p.name[len("train-") : -len(".tsv")] for p in root.glob("train-*.tsv")}
    found |= {
        p.parent.name for p in root.glob("*/train-*.tsv") if p.name == f"train-{p.parent.name}.tsv"
    }
    found |= {p.name[len("PAN-X.") :] for p in root.glob("PAN-X.*") if p.is_dir()}
    found |= {p.parent.name for p in root.glob("*/train-*.parquet")}
    return tuple(sorted(code for code in found if _CODE.fullmatch(code)))


def check_lang(lang: str, source: str = "hub") -> str:
    """Return `lang` if `source` can have it, else raise a ValueError saying what it has.

    A folder is not limited to a list: any code is accepted here and its files are looked
    for when the data loads, so a user's own `train-xx.tsv` is never refused for its name.
    """
    if not isinstance(lang, str) or not _CODE.fullmatch(lang):
        raise ValueError(f"{lang!r} is not a language code")
    if source in BUILT_IN_SOURCES:
        known = source_languages(source)
        if lang not in known:
            raise ValueError(
                f"unknown language {lang!r} for {source!r} data; it has: {', '.join(known)}"
            )
    return lang
