"""A study's findings judged from its Results: each Check of a claim (xner.spec.claims) is a
difference of F1s whose 95% interval comes from a bootstrap over the shared test sentences and,
where a cell has several seeds, over its seeds.

The resampling is paired wherever the data is: every cell evaluated on one language is rescored
on the same resampled test sentences (one draw per language and resample), and every cell of
one training configuration takes the same resampled seeds. Languages are resampled
independently of each other (their test sets are). A finding then has one of three verdicts:
**holds** (the interval of every Check lies on its claimed side), **contradicted** (an interval
lies entirely on the other side) or **not established** (else: an interval straddles); and
**not judged** when a cell has no result with per-sentence counts to resample.

Each Check's interval is at 95% on its own: holding needs every interval on its side (an
intersection-union test needs no correction for that), while "contradicted" is not corrected
for the number of Checks a claim has.

Pure numpy: no torch.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from xner.results.intervals import decode_counts, f1_from_counts, resample_indices
from xner.results.records import Result
from xner.spec.claims import Aggregate, CellRef, Check, Finding, Local, Number, Sum, cell_text
from xner.spec.recipe import BOOTSTRAP_RESAMPLES

LEVEL = 0.95
HOLDS, CONTRADICTED, NOT_ESTABLISHED, NOT_JUDGED = (
    "holds", "contradicted", "not established", "not judged",
)  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """One Check's difference: `difference` (its cells' part, as the claim writes it) has
    `estimate` and a 95% interval, claimed `op` `threshold`."""

    difference: str
    estimate: float
    low: float
    high: float
    op: str
    threshold: float

    @property
    def side(self) -> str:
        """holds, contradicted or not established for this Check alone."""
        above, below = self.low > self.threshold, self.high < self.threshold
        if (above and self.op == ">") or (below and self.op == "<"):
            return HOLDS
        if above or below:
            return CONTRADICTED
        return NOT_ESTABLISHED

    @property
    def margin(self) -> float:
        """How far the interval is inside its claimed side (negative: it is not)."""
        return self.low - self.threshold if self.op == ">" else self.threshold - self.high

    def __str__(self) -> str:
        return (
            f"{self.difference} = {self.estimate:+.4f} [{self.low:+.4f}, {self.high:+.4f}] "
            f"({LEVEL * 100:g}%), claimed {self.op} {self.threshold:g}"
        )

    def to_dict(self) -> dict:
        return {"difference": self.difference, "estimate": self.estimate, "low": self.low,
                "high": self.high, "op": self.op, "threshold": self.threshold}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """A finding's verdict, the deciding Check's difference and every Check's."""

    finding: Finding
    verdict: str
    deciding: Decision | None = None
    decisions: tuple[Decision, ...] = ()
    reason: str = ""  # why it was not judged

    @property
    def holds(self) -> bool:
        return self.verdict == HOLDS

    @property
    def line(self) -> str:
        """`smoke-zero-shot-drop: holds: zero-shot:de->de - ... = +0.30 [+0.25, +0.35] ...`."""
        head = f"{self.finding}: {self.verdict}"
        if self.deciding is None:
            return f"{head} ({self.reason})" if self.reason else head
        return f"{head}: {self.deciding}"

    def to_dict(self) -> dict:
        return self.finding.to_dict() | {
            "verdict": self.verdict,
            "deciding": self.deciding.to_dict() if self.deciding else None,
            "reason": self.reason,
        }


def judge(
    finding: Finding,
    results: Iterable[Result],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Verdict:
    """The verdict of `finding` from `results` (any; those of its study's cells are used)."""
    if resamples < 1:
        raise ValueError(f"judging a finding needs at least one resample, got {resamples}")
    runs: dict[Local, dict[int, Result]] = defaultdict(dict)
    needed = set(finding.cells)
    for r in results:
        cell = (r.strategy, r.config, r.eval_lang)
        if r.study == finding.study and cell in needed:
            runs[cell][r.seed] = r  # the last record of a seed wins, as in the tables
    missing = [cell_text(c) for c in finding.cells if c not in runs]
    if missing:
        return Verdict(finding, NOT_JUDGED, reason=f"no results for {', '.join(missing)}")
    uncounted = [cell_text(c) for c in finding.cells
                 if any(r.sentence_counts is None for r in runs[c].values())]  # fmt: skip
    if uncounted:
        return Verdict(
            finding, NOT_JUDGED, reason=f"no per-sentence counts for {', '.join(uncounted)}"
        )
    try:
        values = _resampled_f1(runs, resamples, seed)
    except ValueError as err:
        return Verdict(finding, NOT_JUDGED, reason=str(err))
    decisions = tuple(_decide(check, values) for check in finding.checks)
    sides = [d.side for d in decisions]
    if CONTRADICTED in sides:
        against = [d for d in decisions if d.side == CONTRADICTED]
        return Verdict(finding, CONTRADICTED, min(against, key=lambda d: d.margin), decisions)
    deciding = min(decisions, key=lambda d: d.margin)  # the weakest (or the straddling) one
    verdict = HOLDS if all(s == HOLDS for s in sides) else NOT_ESTABLISHED
    return Verdict(finding, verdict, deciding, decisions)


def judge_all(
    findings: Iterable[Finding], results: Sequence[Result], resamples: int = BOOTSTRAP_RESAMPLES
) -> list[Verdict]:
    """The verdicts of the findings of every study that `results` has records of."""
    studies = {r.study for r in results}
    return [judge(f, results, resamples) for f in findings if f.study in studies]


def _seed(*parts: str) -> int:
    """A stable seed per language or configuration, whatever else a claim names."""
    return zlib.crc32("\0".join(parts).encode())


def _resampled_f1(runs: dict[Local, dict[int, Result]], resamples: int, seed: int):
    """Per cell, F1 on the whole test set (index 0) and on each resample (1..resamples)."""
    by_lang: dict[str, list[Local]] = defaultdict(list)
    for cell in runs:
        by_lang[cell[2]].append(cell)
    per_seed: dict[Local, list[np.ndarray]] = {}
    for lang, cells in by_lang.items():
        counts = {c: [decode_counts(r.sentence_counts) for r in runs[c].values()] for c in cells}
        sizes = {c: {a.shape[0] for a in arrays} for c, arrays in counts.items()}
        if len(set().union(*sizes.values())) > 1:
            shown = ", ".join(f"{cell_text(c)} {sorted(n)}" for c, n in sizes.items())
            raise ValueError(f"not the same test sentences on {lang}: {shown} sentences")
        n = next(iter(sizes.values())).pop()
        indices = resample_indices(n, resamples, seed + _seed(lang))
        weights = np.stack([np.bincount(row, minlength=n) for row in indices]).astype(float)
        weights = np.concatenate([np.ones((1, n)), weights])  # row 0: the whole test set
        for cell, arrays in counts.items():
            per_seed[cell] = [
                f1_from_counts((weights @ a.reshape(n, -1)).reshape(-1, *a.shape[1:])).micro
                for a in arrays
            ]
    values = {}
    rng_of: dict[tuple[str, str], np.ndarray] = {}
    for cell, f1s in per_seed.items():
        stacked = np.stack(f1s, axis=1)  # (1 + resamples, seeds)
        k = stacked.shape[1]
        if k == 1:
            values[cell] = stacked[:, 0]
            continue
        # The cells of one configuration share the seeds drawn (they are the same trainings).
        key = (cell[0], cell[1])
        if key not in rng_of:
            rng = np.random.default_rng(seed + _seed(*key))
            rng_of[key] = rng.integers(0, k, size=(resamples, k))
        picks = rng_of[key]
        rows = np.arange(1, resamples + 1)[:, None]
        resampled = stacked[rows, picks].mean(axis=1)
        values[cell] = np.concatenate([[stacked[0].mean()], resampled])
    return values


def _value(side: Sum, values: dict[Local, np.ndarray]) -> np.ndarray:
    total = 0.0
    for sign, term in side.terms:
        if isinstance(term, CellRef):
            total = total + sign * values[term.local]
        elif isinstance(term, Aggregate):
            stacked = np.stack([values[c.local] for c in term.cells])
            reduce = {"mean": np.mean, "min": np.min, "max": np.max}[term.function]
            total = total + sign * reduce(stacked, axis=0)
        elif isinstance(term, Number):
            pass  # constants move the threshold, not the difference
    return np.asarray(total, dtype=float)


def _decide(check: Check, values: dict[Local, np.ndarray]) -> Decision:
    left, right = check.left.varying, check.right.varying
    difference = _value(left, values) - _value(right, values)
    if difference.ndim == 0:  # numbers only on both sides: no cell varies
        difference = np.zeros(2)
    low, high = np.quantile(difference[1:], [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Decision(
        difference=_difference_text(left, right),
        estimate=float(difference[0]),
        low=float(low),
        high=float(high),
        op=check.op,
        threshold=check.right.constant - check.left.constant,
    )


def _difference_text(left: Sum, right: Sum) -> str:
    if not right.terms:
        return str(left)
    right_text = str(right) if len(right.terms) == 1 else f"({right})"
    if not left.terms:
        return f"-{right_text}"
    return f"{left} - {right_text}"
