"""Properties of schemes, CoNLL files and F1 over arbitrary tag sets.

The oracles are independent of xner's code: seqeval's `get_entities` (which reads IOB2 and
BIOES chunks), and a chunk reader written here for IOB1.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from seqeval.metrics import f1_score
from seqeval.metrics.sequence_labeling import get_entities

from xner.data.conll import read_conll, write_conll
from xner.results.intervals import f1_from_counts, sentence_counts
from xner.results.metrics import entity_f1
from xner.spec.schemes import check_tags, detect_scheme, from_iob2, iob2_tags, to_iob2

# Arbitrary entity type names, not PAN-X's: letters, digits and "_" (no "-": a type is the
# part of a tag after its first "-" and seqeval splits there too).
TYPE_NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", min_size=1, max_size=6)
TYPES = st.lists(TYPE_NAMES, min_size=1, max_size=5, unique=True)


@st.composite
def iob2_rows(draw, types=None, max_len=12):
    """A well-formed IOB2 sentence: entities of `types` with O between some of them."""
    types = types or draw(TYPES)
    row: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            row += ["O"] * draw(st.integers(1, 2))
        kind = draw(st.sampled_from(types))
        row += [f"B-{kind}"] + [f"I-{kind}"] * draw(st.integers(0, 3))
    return row[:max_len]  # a cut IOB2 sentence is still well formed


def iob2_entities(rows: list[list[str]]) -> list[tuple[int, str, int, int]]:
    return [(i, *e) for i, row in enumerate(rows) for e in get_entities(row)]


def iob1_entities(row: list[str]) -> list[tuple[str, int, int]]:
    """IOB1 chunks read by their definition: an entity is a maximal run of one type, cut
    wherever a B- stands."""
    out, start = [], None
    for i, tag in enumerate([*row, "O"]):
        prefix, _, kind = tag.partition("-")
        prev_kind = row[i - 1].partition("-")[2] if i > 0 and row[i - 1] != "O" else None
        if start is not None and (tag == "O" or kind != prev_kind or prefix == "B"):
            out.append((prev_kind, start, i - 1))
            start = None
        if tag != "O" and start is None:
            start = i
    return out


@given(st.lists(iob2_rows(), min_size=1, max_size=6))
def test_iob1_round_trip_keeps_every_entity(rows):
    iob1 = [from_iob2(row, "iob1") for row in rows]
    for row, written in zip(rows, iob1, strict=True):
        check_tags(written, "iob1")
        # The IOB1 text holds the same chunks as the IOB2 one, by an independent reading.
        assert iob1_entities(written) == get_entities(row)
        # IOB1 writes B- only between two adjacent entities of one type.
        for i, tag in enumerate(written):
            if tag.startswith("B-"):
                assert i > 0 and written[i - 1][2:] == tag[2:]
    assert [to_iob2(row, "iob1") for row in iob1] == rows
    if any(tag != "O" for row in rows for tag in row):
        assert detect_scheme(iob1) == "iob1"


@given(st.lists(iob2_rows(), min_size=1, max_size=6), st.sampled_from(["bioes", "bilou"]))
def test_bioes_and_bilou_round_trip_keeps_every_entity(rows, scheme):
    written = [from_iob2(row, scheme) for row in rows]
    for row, out in zip(rows, written, strict=True):
        check_tags(out, scheme)
        # seqeval reads BIOES chunks itself: L/U are E/S under other letters.
        bioes = [t.replace("L-", "E-", 1).replace("U-", "S-", 1) for t in out]
        assert get_entities(bioes) == get_entities(row)
    assert [to_iob2(row, scheme) for row in written] == rows
    if any(tag != "O" for row in rows for tag in row):
        assert detect_scheme(written) == scheme


@st.composite
def sentences(draw):
    types = draw(TYPES)
    words = st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
        min_size=1,
        max_size=5,
    ).filter(lambda w: w != "-DOCSTART-")
    out = []
    for _ in range(draw(st.integers(1, 5))):
        tags = draw(iob2_rows(types))
        if not tags:
            tags = ["O"]
        out.append((draw(st.lists(words, min_size=len(tags), max_size=len(tags))), tags))
    return out


@given(
    sentences(),
    st.sampled_from(["iob1", "iob2", "bioes", "bilou"]),
    st.sampled_from(["utf-8", "utf-16"]),
    st.integers(0, 2),
    st.booleans(),
)
def test_a_written_conll_file_reads_back(sents, scheme, encoding, fillers, docstart):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.txt"
        write_conll(sents, path, scheme, encoding, ["NN"] * fillers, docstart)
        read = read_conll(path, encoding=encoding, scheme=scheme)
    assert read.sentences == sents


@given(st.data())
def test_f1_and_counts_agree_with_seqeval_for_any_tag_set(data):
    types = data.draw(TYPES)
    true = [row or ["O"] for row in data.draw(st.lists(iob2_rows(types), min_size=1, max_size=8))]
    # Predictions: any tag of the set, so ill-formed IOB2 (I- opening) is scored too.
    tags = iob2_tags(types)
    pred = [
        data.draw(st.lists(st.sampled_from(tags), min_size=len(row), max_size=len(row)))
        for row in true
    ]
    scores = entity_f1(true, pred)
    assert abs(scores.f1 - f1_score(true, pred, zero_division=0)) < 1e-12
    counts = sentence_counts(true, pred, types)
    assert abs(float(f1_from_counts(counts.sum(axis=0)).micro) - scores.f1) < 1e-12
    assert set(scores.per_type) <= set(types)
    entities = iob2_entities(true)
    assert int(counts[:, :, 0].sum() + counts[:, :, 2].sum()) == len(entities)
