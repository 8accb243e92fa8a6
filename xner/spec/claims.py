"""The claim language of a study's findings: what a finding says, over the cells of its tables,
parsed and checked when the study loads. Plain data: no numpy, no torch.

    claim      := clause ("and" clause)*
    clause     := comparison | crossover
    comparison := sum ("<" | ">") sum
    crossover  := "crossover" "(" CURVE "," CELL ")" "between" SIZE "and" SIZE
    sum        := ["-"] term (("+" | "-") term)*
    term       := CELL | NUMBER | ("mean" | "min" | "max") "(" CELL ("," CELL)* ")"
    CELL       := STRATEGY ":" CONFIG "->" LANG       (LANG "*": every language of the row)
    CURVE      := STRATEGY [":" TRAIN]                (a strategy trained at several sizes)

A tokenizer and a recursive-descent parser (one function per rule), then `resolve` against the
cells a study has: every clause becomes one or more Checks, `left op right` between two linear
sums of cells, aggregates and numbers, which xner.results.findings decides by bootstrap.
`crossover(C, R) between a and b` is a Check `C@n < R` for every size n <= a and `C@n > R` for
every size n >= b: the curve is below the reference up to a and above it from b on.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

FUNCTIONS = ("mean", "min", "max")
KEYWORDS = ("and", "between", "crossover", *FUNCTIONS)

Local = tuple[str, str, str]  # a cell within its study: (strategy, config, lang)


class ClaimError(ValueError):
    """A claim that does not parse or names a cell the study does not have."""


# --- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CellRef:
    strategy: str
    config: str
    lang: str  # "*": every language the configuration is evaluated on

    def __str__(self) -> str:
        return f"{self.strategy}:{self.config}->{self.lang}"

    @property
    def local(self) -> Local:
        return (self.strategy, self.config, self.lang)


@dataclass(frozen=True)
class Number:
    value: float

    def __str__(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class Aggregate:
    function: str  # mean, min, max
    cells: tuple[CellRef, ...]
    text: str = field(default="", compare=False)  # as written, `mean(full:all->*)`

    def __str__(self) -> str:
        return self.text or f"{self.function}({', '.join(map(str, self.cells))})"


Term = CellRef | Number | Aggregate


@dataclass(frozen=True)
class Sum:
    terms: tuple[tuple[int, Term], ...]  # (+1 or -1, term)

    def __str__(self) -> str:
        text = ""
        for i, (sign, term) in enumerate(self.terms):
            text += ("-" if sign < 0 else "") if i == 0 else (" - " if sign < 0 else " + ")
            text += str(term)
        return text

    @property
    def constant(self) -> float:
        return sum(sign * t.value for sign, t in self.terms if isinstance(t, Number))

    @property
    def varying(self) -> Sum:
        """The terms that are cells or aggregates (what the bootstrap resamples)."""
        return Sum(tuple((s, t) for s, t in self.terms if not isinstance(t, Number)))


@dataclass(frozen=True)
class Comparison:
    left: Sum
    op: str  # "<" or ">"
    right: Sum


@dataclass(frozen=True)
class Crossover:
    strategy: str
    train: str | None  # the curve's training set where the strategy has several
    reference: CellRef
    low: int
    high: int


Clause = Comparison | Crossover


# --- tokens ----------------------------------------------------------------------------------

_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
_CONFIG = r"[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*(?::[0-9]+)?"
_TOKEN = re.compile(
    rf"(?P<space>\s+)"
    rf"|(?P<cell>(?P<strategy>{_NAME}):(?P<config>{_CONFIG})->(?P<lang>\*|[A-Za-z][A-Za-z0-9_]*))"
    rf"|(?P<name>{_NAME}(?::[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*)?)"
    r"|(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"|(?P<op><=|>=|==|[<>(),+-])"
)


@dataclass(frozen=True)
class _Token:
    kind: str  # cell, name, number, op, end
    text: str
    column: int  # 1-based, for error messages
    value: object = None


def tokenize(text: str) -> list[_Token]:
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise ClaimError(f"column {at + 1}: unexpected {text[at]!r}")
        kind = "cell" if match.group("cell") else match.lastgroup
        if kind != "space":
            value = None
            if kind == "cell":
                value = CellRef(match["strategy"], match["config"], match["lang"])
            elif kind == "number":
                value = float(match.group())
            tokens.append(_Token(kind, match.group(), at + 1, value))
        at = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# --- parser ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def fail(self, expected: str, token: _Token | None = None) -> ClaimError:
        token = token or self.peek
        got = "the end" if token.kind == "end" else repr(token.text)
        return ClaimError(f"column {token.column}: expected {expected}, got {got}")

    def expect(self, kind: str, text: str | None = None, what: str = "") -> _Token:
        token = self.peek
        if token.kind != kind or (text is not None and token.text != text):
            raise self.fail(what or repr(text or kind))
        return self.take()

    def claim(self) -> tuple[Clause, ...]:
        clauses = [self.clause()]
        while self.peek.kind == "name" and self.peek.text == "and":
            self.take()
            clauses.append(self.clause())
        if self.peek.kind != "end":
            raise self.fail("'and' or the end of the claim")
        return tuple(clauses)

    def clause(self) -> Clause:
        if self.peek.kind == "name" and self.peek.text == "crossover":
            return self.crossover()
        left = self.sum()
        token = self.peek
        if token.kind == "op" and token.text in ("<=", ">=", "=="):
            raise ClaimError(
                f"column {token.column}: {token.text!r}: a claim compares with < or > (a "
                "bootstrap interval decides which side a difference is on, not equality)"
            )
        if token.kind != "op" or token.text not in ("<", ">"):
            raise self.fail("'<' or '>'")
        self.take()
        return Comparison(left, token.text, self.sum())

    def crossover(self) -> Crossover:
        self.take()
        self.expect("op", "(")
        curve = self.peek
        if curve.kind != "name" or curve.text in KEYWORDS:
            raise self.fail("a strategy trained at several sizes (few-shot)")
        self.take()
        strategy, _, train = curve.text.partition(":")
        self.expect("op", ",")
        reference = self.expect("cell", what="a cell such as zero-shot:de->fr").value
        self.expect("op", ")")
        self.expect("name", "between")
        low = self.size()
        self.expect("name", "and")
        high = self.size()
        if low >= high:
            raise ClaimError(f"crossover between {low} and {high}: the first size must be smaller")
        return Crossover(strategy, train or None, reference, low, high)

    def size(self) -> int:
        token = self.expect("number", what="a number of sentences")
        if token.value != int(token.value):
            raise self.fail("a whole number of sentences", token)
        return int(token.value)

    def sum(self) -> Sum:
        first = 1
        if self.peek.text == "-":  # a negative bound: `> -0.05`
            self.take()
            first = -1
        terms = [(first, self.term())]
        while self.peek.kind == "op" and self.peek.text in ("+", "-"):
            sign = -1 if self.take().text == "-" else 1
            terms.append((sign, self.term()))
        return Sum(tuple(terms))

    def term(self) -> Term:
        token = self.peek
        if token.kind == "cell":
            self.take()
            return token.value
        if token.kind == "number":
            self.take()
            return Number(token.value)
        if token.kind == "name" and self.tokens[self.at + 1].text == "(":
            if token.text not in FUNCTIONS:
                raise ClaimError(
                    f"column {token.column}: unknown function {token.text!r} "
                    f"(known: {', '.join(FUNCTIONS)}, and crossover(...) as a clause)"
                )
            start = token.column - 1
            self.take()
            self.take()
            cells = [self.expect("cell", what="a cell such as full:all->de").value]
            while self.peek.text == ",":
                self.take()
                cells.append(self.expect("cell", what="a cell").value)
            end = self.expect("op", ")")
            return Aggregate(token.text, tuple(cells), self.text[start : end.column])
        if token.kind == "name":
            raise ClaimError(
                f"column {token.column}: {token.text!r} is not a cell: name one as "
                "STRATEGY:CONFIG->LANG, e.g. zero-shot:de->fr"
            )
        raise self.fail("a cell, a number or mean/min/max(...)")


def parse_claim(text: str) -> tuple[Clause, ...]:
    """The clauses of a claim, or ClaimError naming the column and what was expected."""
    if not isinstance(text, str) or not text.strip():
        raise ClaimError("an empty claim")
    return _Parser(text).claim()


# --- resolving against a study's cells -------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One comparison to decide: `left op right`, each a linear sum of cells, aggregates over
    concrete cells and numbers (rows expanded); `label` is how the verdict names it."""

    left: Sum
    op: str
    right: Sum
    label: str

    @property
    def cells(self) -> tuple[Local, ...]:
        found = []
        for side in (self.left, self.right):
            for _, term in side.terms:
                if isinstance(term, CellRef):
                    found.append(term.local)
                elif isinstance(term, Aggregate):
                    found.extend(c.local for c in term.cells)
        return tuple(dict.fromkeys(found))


def resolve(clauses: Iterable[Clause], cells: Collection[Local]) -> tuple[Check, ...]:
    """The Checks of a parsed claim over `cells` (every (strategy, config, lang) the study
    has); an unknown strategy, configuration or language is a ClaimError naming what it has."""
    known = dict.fromkeys(cells)  # ordered: a row expands in the study's order of languages
    checks: list[Check] = []
    for clause in clauses:
        if isinstance(clause, Comparison):
            left, right = _resolve_sum(clause.left, known), _resolve_sum(clause.right, known)
            label = f"{clause.left} {clause.op} {clause.right}"
            checks.append(Check(left, clause.op, right, label))
        else:
            checks.extend(_crossover_checks(clause, known))
    return tuple(checks)


def _resolve_sum(side: Sum, known: dict[Local, None]) -> Sum:
    terms = []
    for sign, term in side.terms:
        if isinstance(term, CellRef):
            if term.lang == "*":
                raise ClaimError(
                    f"{term}: a row (->*) only inside mean(), min() or max(), e.g. min({term})"
                )
            _check_cell(term, known)
        elif isinstance(term, Aggregate):
            expanded = [c for ref in term.cells for c in _expand(ref, known)]
            term = Aggregate(term.function, tuple(dict.fromkeys(expanded)), str(term))
        terms.append((sign, term))
    return Sum(tuple(terms))


def _expand(ref: CellRef, known: dict[Local, None]) -> list[CellRef]:
    if ref.lang != "*":
        _check_cell(ref, known)
        return [ref]
    _check_cell(ref, known)
    return [CellRef(s, c, lang) for s, c, lang in known if (s, c) == (ref.strategy, ref.config)]


def _check_cell(ref: CellRef, known: dict[Local, None]) -> None:
    strategies = list(dict.fromkeys(s for s, _, _ in known))
    if ref.strategy not in strategies:
        raise ClaimError(
            f"unknown cell {str(ref)!r}: no strategy {ref.strategy!r} "
            f"(the study has: {', '.join(strategies)})"
        )
    configs = list(dict.fromkeys(c for s, c, _ in known if s == ref.strategy))
    if ref.config not in configs:
        raise ClaimError(
            f"unknown cell {str(ref)!r}: {ref.strategy} trains on {', '.join(configs)}"
        )
    langs = [x for s, c, x in known if (s, c) == (ref.strategy, ref.config)]
    if ref.lang != "*" and ref.lang not in langs:
        raise ClaimError(
            f"unknown cell {str(ref)!r}: {ref.strategy}:{ref.config} is evaluated on "
            f"{', '.join(langs)}"
        )


def curve_sizes(known: Collection[Local], strategy: str, train: str | None, lang: str):
    """{size: config label} of a learning curve's points on `lang`."""
    points = {}
    for s, config, x in known:
        name, _, size = config.rpartition(":")
        if s == strategy and x == lang and size.isdigit() and train in (None, name):
            points[int(size)] = config
    return dict(sorted(points.items()))


def _crossover_checks(clause: Crossover, known: dict[Local, None]) -> list[Check]:
    _check_cell(clause.reference, known)
    reference = clause.reference
    if reference.lang == "*":
        raise ClaimError(f"crossover: the reference is one cell, not a row ({reference})")
    if clause.strategy not in {s for s, _, _ in known}:
        raise ClaimError(f"crossover: no strategy {clause.strategy!r}")
    trains = {
        c.rpartition(":")[0] for s, c, _ in known if s == clause.strategy and ":" in c
    }  # fmt: skip
    if not trains:
        raise ClaimError(f"crossover: {clause.strategy} is not trained at several sizes")
    if clause.train is None and len(trains) > 1:
        raise ClaimError(
            f"crossover: {clause.strategy} trains on {', '.join(sorted(trains))}; name one, "
            f"e.g. crossover({clause.strategy}:{sorted(trains)[0]}, ...)"
        )
    if clause.train is not None and clause.train not in trains:
        raise ClaimError(f"crossover: {clause.strategy} does not train on {clause.train!r}")
    points = curve_sizes(known, clause.strategy, clause.train, reference.lang)
    if not points:
        raise ClaimError(f"crossover: {clause.strategy} is not evaluated on {reference.lang}")
    sizes = ", ".join(map(str, points))
    if clause.low != 0 and clause.low not in points:
        raise ClaimError(f"crossover: {clause.low} is not a size of {clause.strategy} ({sizes})")
    if clause.high not in points:
        raise ClaimError(f"crossover: {clause.high} is not a size of {clause.strategy} ({sizes})")
    checks = []
    ref_sum = Sum(((1, reference),))
    for n, config in points.items():
        if clause.low < n < clause.high:
            continue  # between the two sizes the curve may be on either side
        point = CellRef(clause.strategy, config, reference.lang)
        op = "<" if n <= clause.low else ">"
        checks.append(Check(Sum(((1, point),)), op, ref_sum, f"{point} {op} {reference}"))
    return checks


def cell_text(cell: Local) -> str:
    """`zero-shot:de->fr`: a cell as claims name it."""
    return f"{cell[0]}:{cell[1]}->{cell[2]}"


def parse_cell_text(text: str) -> Local:
    """The inverse of cell_text (results.json keeps a finding's cells this way)."""
    match = _TOKEN.fullmatch(text)
    if match is None or not match.group("cell"):
        raise ClaimError(f"{text!r} is not a cell such as zero-shot:de->fr")
    return (match["strategy"], match["config"], match["lang"])


# --- findings ----------------------------------------------------------------------------------

_FINDING_KEYS = ("name", "says", "claim")
_FINDING_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Finding:
    """One finding of a study: its name (test_finding[<study>-<name>]), the sentence it stands
    for and its claim, resolved into Checks over the study's cells."""

    study: str
    name: str
    says: str
    claim: str
    checks: tuple[Check, ...]

    @property
    def cells(self) -> tuple[Local, ...]:
        """Every cell the claim needs, in the order it names them."""
        return tuple(dict.fromkeys(c for check in self.checks for c in check.cells))

    def __str__(self) -> str:
        return f"{self.study}-{self.name}"

    def to_dict(self) -> dict:
        return {"study": self.study, "name": self.name, "says": self.says,
                "claim": self.claim, "cells": [cell_text(c) for c in self.cells]}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        """A finding as results.json keeps it, resolved again over the cells it needed."""
        cells = [parse_cell_text(c) for c in data["cells"]]
        checks = resolve(parse_claim(data["claim"]), cells)
        return cls(data["study"], data["name"], data["says"], data["claim"], checks)


def parse_findings(value, study: str, cells: Collection[Local], fail) -> tuple[Finding, ...]:
    """A study file's `[[findings]]`, each checked against the study's cells: `fail(key,
    problem)` makes the error (`FILE: findings[2].claim: unknown cell ...`)."""
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        raise fail("findings", "a list of tables ([[findings]] with name, says and claim)")
    findings, names = [], set()
    for i, table in enumerate(value):
        where = f"findings[{i}]"
        for key in table:
            if key not in _FINDING_KEYS:
                raise fail(f"{where}.{key}", f"unknown key; known: {', '.join(_FINDING_KEYS)}")
        for key in _FINDING_KEYS:
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise fail(
                    f"{where}.{key}", f"missing or not a non-empty string: {table.get(key)!r}"
                )
        name = table["name"]
        if not _FINDING_NAME.fullmatch(name):
            raise fail(f"{where}.name", f"lower-case letters, digits and '-', got {name!r}")
        if name in names:
            raise fail(f"{where}.name", f"{name!r} names another finding too")
        names.add(name)
        try:
            checks = resolve(parse_claim(table["claim"]), cells)
        except ClaimError as err:
            raise fail(f"{where}.claim", str(err)) from None
        findings.append(Finding(study, name, table["says"], table["claim"], checks))
    return tuple(findings)
