"""Two runs cell by cell: the F1 difference, its paired-bootstrap interval and whether it is
significant. Paired: both runs scored the same test sentences, so each resample draws the same
sentences for both, and what differs between the runs is all that moves the difference.

Used by `xner compare RUN_A.json RUN_B.json` and by the plugin's `--xner-compare`, where a
regression fails the session only when F1 fell by more than the allowance *and* the fall is
significant (`--xner-compare-plain` keeps the plain threshold)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tabulate import tabulate

from xner.reporting.tables import aggregate, sort_key
from xner.results.intervals import BOOTSTRAP_RESAMPLES, Difference, paired_bootstrap
from xner.results.records import Result
from xner.spec.identity import Cell


@dataclass(frozen=True)
class CellComparison:
    """One cell of both runs: their mean F1 and, where the test sentences are the same and one
    seed each, the paired difference (after - before)."""

    cell: Cell
    before: float
    after: float
    difference: Difference | None

    @property
    def change(self) -> float:
        return self.after - self.before

    def fell(self, allowance: float, plain: bool = False) -> bool:
        """A regression: F1 fell by more than `allowance`, and (unless `plain`, or without a
        paired test) significantly so."""
        # Rounded: 0.60 - 0.59 is 0.010000000000000009 in floating point.
        if round(-self.change, 9) <= allowance:
            return False
        return plain or self.difference is None or self.difference.significant


def compare_runs(
    before: Iterable[Result], after: Iterable[Result], resamples: int = BOOTSTRAP_RESAMPLES
) -> list[CellComparison]:
    """Every cell the two runs share, in the report's order."""
    a, b = aggregate(before), aggregate(after)
    comparisons = []
    for cell in sorted(set(a) & set(b), key=sort_key):
        difference = None
        counts_a, counts_b = a[cell].counts, b[cell].counts
        if counts_a is not None and counts_b is not None and counts_a.shape == counts_b.shape:
            difference = paired_bootstrap(counts_a, counts_b, resamples)
        comparisons.append(CellComparison(cell, a[cell].mean, b[cell].mean, difference))
    return comparisons


def comparison_table(comparisons: Iterable[CellComparison], fmt: str = "simple") -> str:
    """Side by side, with `*` marking a significant difference (95% interval excludes 0); a
    study column where the cells come from more than one study."""
    comparisons = list(comparisons)
    several = len({c.cell.study for c in comparisons}) > 1
    rows = []
    for c in comparisons:
        d = c.difference
        rows.append([
            *([c.cell.study] if several else []), *c.cell.local,
            f"{c.before:.4f}", f"{c.after:.4f}",
            f"{c.change:+.4f}" + (" *" if d is not None and d.significant else ""),
            f"[{d.low:+.4f}, {d.high:+.4f}]" if d else "-",
            f"{d.p_value:.3f}" if d else "-",
        ])  # fmt: skip
    headers = ["strategy", "fine-tuned on", "test", "A", "B", "B - A", "95% interval", "p"]
    if several:
        headers.insert(0, "study")
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
