"""Tagging schemes of NER corpora (IOB1, IOB2, BIOES/BILOU): checking, detection and conversion.

xner trains, aligns and scores in one scheme, IOB2 (`B-` opens every entity, `I-` continues
it): first-subword alignment and seqeval's default mode both read it. Corpora come in others:
CoNLL-2003 is IOB1 (`I-` opens an entity unless it directly follows a token of the same type;
`B-` only separates two adjacent entities of one type), some corpora are BIOES (`S-` a
one-token entity, `E-` its last token) or BILOU (the same with `U-` and `L-`). Converting
between them changes no entity. Plain Python: no torch, no datasets.
"""

from __future__ import annotations

from collections.abc import Sequence

SCHEMES = ("iob1", "iob2", "bioes", "bilou")
SCHEME_CHOICES = ("auto", *SCHEMES)
_PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES", "bilou": "BILU"}
# BILOU is BIOES with other letters: L(ast) is E(nd), U(nit) is S(ingle).
_TO_BIOES = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S"}


class CorpusError(ValueError):
    """A corpus that cannot be read; the message is one line, `FILE:LINE: problem`."""


class TagError(ValueError):
    """A tag sequence that breaks its scheme; `index` is the offending tag's position."""

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index


def split_tag(tag: str) -> tuple[str, str]:
    """(prefix, entity type) of a tag: ("O", "") for O, ("B", "PER") for B-PER. No check of
    the prefix against a scheme (see `check_tags`); a tag without "-" has prefix = the tag."""
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def _accepted(scheme: str) -> str:
    return "O or " + ", ".join(f"{p}-TYPE" for p in _PREFIXES[scheme])


def check_tags(tags: Sequence[str], scheme: str) -> None:
    """Raise TagError at the first tag `scheme` does not allow.

    Every scheme refuses a prefix outside it (`X-PER`, `E-PER` in IOB2) and a prefix without a
    type (`B-`). IOB2 also refuses an `I-` that does not continue an entity of its type, and
    BIOES/BILOU any broken chunk (`B-` not closed by `E-`/`L-`, `I-` or `E-` out of one).
    IOB1 allows any order: its `I-` opens entities by definition.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    allowed = _PREFIXES[scheme]
    previous_prefix, previous_type = "O", ""
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if prefix != "O" and (len(prefix) != 1 or prefix not in allowed or not kind):
            raise TagError(i, f"tag {tag!r} is not in the {scheme} scheme ({_accepted(scheme)})")
        if scheme == "iob2" and prefix == "I" and previous_type != kind:
            raise TagError(
                i,
                f"tag {tag!r} follows {_tag(previous_prefix, previous_type)}: in IOB2 an I- tag "
                f'continues a B-{kind} or I-{kind} (is the file IOB1? try scheme = "iob1")',
            )
        if scheme in ("bioes", "bilou"):
            _check_bioes(i, tag, _TO_BIOES.get(prefix, "O"), kind, previous_prefix, previous_type)
        previous_prefix = _TO_BIOES.get(prefix, "O") if scheme in ("bioes", "bilou") else prefix
        previous_type = kind
    if scheme in ("bioes", "bilou") and previous_prefix in ("B", "I"):
        raise TagError(len(tags) - 1, f"the entity {previous_type} is not closed at the end")


def _tag(prefix: str, kind: str) -> str:
    return "O" if prefix == "O" else f"{prefix}-{kind}"


def _check_bioes(i, tag, prefix, kind, previous_prefix, previous_type) -> None:
    inside = previous_prefix in ("B", "I")
    if prefix in ("I", "E") and not (inside and previous_type == kind):
        raise TagError(i, f"tag {tag!r} does not continue an entity opened by B-{kind}")
    if prefix in ("B", "S", "O") and inside:
        raise TagError(
            i, f"tag {tag!r} comes inside the entity {previous_type}, which is not closed"
        )


def detect_scheme(sentences: Sequence[Sequence[str]]) -> str:
    """The scheme the tags are written in: "bilou" if any L-/U-, "bioes" if any E-/S-, else
    "iob1" if some I- opens an entity (follows O or another type), else "iob2". Tags of
    IOB1 and IOB2 read the same wherever no I- opens an entity, so that guess changes nothing."""
    found = "iob2"
    for tags in sentences:
        previous_type = ""
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix in ("L", "U"):
                return "bilou"
            if prefix in ("E", "S"):
                found = "bioes"
            elif prefix == "I" and previous_type != kind and found == "iob2":
                found = "iob1"
            previous_type = kind
    return found


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """`tags` of `scheme` written in IOB2, with the same entities (check them first: broken
    chunks are read leniently, as conlleval reads them)."""
    if scheme == "iob2":
        return list(tags)
    out = []
    previous_type = ""
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "O":
            out.append("O")
        elif scheme == "iob1":
            # I- opens an entity unless it continues one of its type; B- always opens one.
            opens = prefix == "B" or previous_type != kind
            out.append(f"{'B' if opens else 'I'}-{kind}")
        else:
            out.append(f"{'B' if _TO_BIOES[prefix] in ('B', 'S') else 'I'}-{kind}")
        previous_type = kind
    return out


def from_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """IOB2 `tags` written in `scheme` (for writing corpora and round-trip tests)."""
    if scheme == "iob2":
        return list(tags)
    out = []
    n = len(tags)
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if prefix == "O":
            out.append("O")
            continue
        if scheme == "iob1":
            # B- only where the entity directly follows another of its type.
            follows_same = i > 0 and split_tag(tags[i - 1])[1] == kind
            out.append(f"{'B' if prefix == 'B' and follows_same else 'I'}-{kind}")
            continue
        continues = i + 1 < n and tags[i + 1] == f"I-{kind}"
        letters = {"B": "S", "I": "E"} if not continues else {"B": "B", "I": "I"}
        letter = letters[prefix]
        if scheme == "bilou":
            letter = {"S": "U", "E": "L"}.get(letter, letter)
        out.append(f"{letter}-{kind}")
    return out


def iob2_tags(entity_types: Sequence[str]) -> tuple[str, ...]:
    """The IOB2 tag set of `entity_types`, in their order: O, B-T1, I-T1, B-T2, ... (PAN-X's
    PER, ORG, LOC give exactly PAN-X's seven tags in their order)."""
    return ("O", *(f"{p}-{t}" for t in entity_types for p in "BI"))


def entity_types_of_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """The entity types of a tag set, in the order they first appear (a head's label order)."""
    return tuple(dict.fromkeys(split_tag(tag)[1] for tag in tags if tag != "O"))
