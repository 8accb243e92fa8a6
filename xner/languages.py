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
SYNTHETIC_LANGS = ("de", "fr", "it", "en")  # what xner.synthetic generates

# A local folder may hold any language: a code is letters, digits, '-' and '_' (XTREME's
# file names put it between "train-" and ".tsv").
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
BUILT_IN_SOURCES = ("hub", "synthetic")


def source_languages(source: str) -> tuple[str, ...]:
    """Every language `source` has: the hub's 40, synthetic's 4, or a folder's files."""
    if source == "hub":
        return PANX_LANGS
    if source == "synthetic":
        return SYNTHETIC_LANGS
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(f"data source {source!r} is not a folder, 'hub' or 'synthetic'")
    found = {p.name[len("train-") : -len(".tsv")] for p in root.glob("train-*.tsv")}
    found |= {
        p.parent.name for p in root.glob("*/train-*.tsv") if p.name == f"train-{p.parent.name}.tsv"
    }
    found |= {p.name[len("PAN-X.") :] for p in root.glob("PAN-X.*") if p.is_dir()}
    return tuple(sorted(found))


def check_lang(lang: str, source: str = "hub") -> str:
    """Return `lang` if `source` can have it, else raise a ValueError saying what it has.

    A folder is not limited to a list: any code is accepted here and its files are looked
    for when the data loads, so a user's own `train-xx.tsv` is never refused for its name.
    """
    if not isinstance(lang, str) or not _CODE.match(lang):
        raise ValueError(f"{lang!r} is not a language code")
    if source in BUILT_IN_SOURCES:
        known = source_languages(source)
        if lang not in known:
            raise ValueError(
                f"unknown language {lang!r} for {source!r} data; it has: {', '.join(known)}"
            )
    return lang
