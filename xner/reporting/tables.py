"""The report's tables, from Result records: measured F1 (mean and standard deviation over
seeds), beside an expected figure and a saved run's where given. The plots are in
xner.reporting.plots."""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from tabulate import tabulate

from xner.results.intervals import crossover, decode_counts, t_interval
from xner.results.records import Result
from xner.spec.identity import Cell
from xner.spec.labels import ENTITY_TYPES

Local = tuple[str, str, str]  # a cell within one study's tables: (strategy, config, lang)


@dataclass(frozen=True)
class Measured:
    """F1 of one cell over its seeds."""

    mean: float
    std: float
    seeds: int
    per_type: dict[str, float]
    train_size: int
    size: int | None = None  # the few-shot size, for a learning curve's point
    reference: str | None = None  # the strategy the curve is drawn against
    # 95% interval of the mean: the bootstrap interval of a single seed, or a t-interval over
    # several seeds; None when the records carry no interval.
    low: float | None = None
    high: float | None = None
    counts: object = None  # one seed's per-sentence counts, for paired comparisons
    type_intervals: dict | None = None  # one seed's per-type intervals (Intervals.to_dict)


@cache
def _report_orders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The report study's order of strategies and of language columns (its file says them);
    others follow alphabetically. Read on first use, not when the module is imported."""
    from xner.spec.study import load_study

    report = load_study("report")
    return tuple(report.strategies), tuple(report.languages)


def _strategy_rank(strategy: str) -> int:
    order = _report_orders()[0]
    return order.index(strategy) if strategy in order else len(order)


def _lang_rank(lang: str) -> int:
    order = _report_orders()[1]
    return order.index(lang) if lang in order else len(order)


def cell_of(result: Result) -> Cell:
    """The cell of `result`: its study, strategy, configuration and language."""
    return Cell.of(result)


def _local(mapping: Mapping[Cell, object], study: str) -> dict:
    """The entries of one study, keyed by their cell within it."""
    return {cell.local: value for cell, value in mapping.items() if cell.study == study}


def flatten(measured: Mapping[Cell, Measured]) -> dict[Local, Measured]:
    """Every study's cells in one figure: with several studies, each strategy (and the
    reference its curve is drawn against) is named `study: strategy`."""
    if len({cell.study for cell in measured}) <= 1:
        return {cell.local: m for cell, m in measured.items()}
    return {
        (f"{cell.study}: {cell.strategy}", cell.config, cell.lang): dataclasses.replace(
            m, reference=f"{cell.study}: {m.reference}" if m.reference else None
        )
        for cell, m in measured.items()
    }


def aggregate(results: Iterable[Result]) -> dict[Cell, Measured]:
    """Group results by cell and average over seeds (the last record of a seed wins)."""
    by_cell: dict[Cell, dict[int, Result]] = defaultdict(dict)
    for r in results:
        by_cell[cell_of(r)][r.seed] = r
    measured = {}
    for cell, by_seed in by_cell.items():
        runs = list(by_seed.values())
        f1s = [r.f1 for r in runs]
        per_type = {
            t: statistics.fmean(r.per_type[t] for r in runs if t in r.per_type)
            for t in entity_types(runs)
            if any(t in r.per_type for r in runs)
        }
        low = high = counts = None
        if len(runs) > 1:
            spread = t_interval(f1s)
            low, high = spread.low, spread.high
        elif runs[0].interval is not None:
            low, high = runs[0].interval["micro"]["low"], runs[0].interval["micro"]["high"]
        if len(runs) == 1 and runs[0].sentence_counts is not None:
            counts = decode_counts(runs[0].sentence_counts)
        single = runs[0].interval if len(runs) == 1 and runs[0].interval else None
        measured[cell] = Measured(
            type_intervals=single["per_type"] if single else None,
            low=low,
            high=high,
            counts=counts,
            mean=statistics.fmean(f1s),
            std=statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
            seeds=len(f1s),
            per_type=per_type,
            train_size=runs[0].train_size,
            size=runs[0].size,
            reference=runs[0].reference,
        )
    return measured


def curve_strategies(measured: Mapping[Local, Measured]) -> list[str]:
    """Strategies trained at several sizes: a learning curve rather than a matrix."""
    return list(dict.fromkeys(c[0] for c, m in measured.items() if m.size is not None))


def _format(
    cell: Local,
    measured: Mapping[Local, Measured],
    expected: Mapping[Local, float],
    baseline: Mapping[Local, Measured],
) -> str:
    m = measured.get(cell)
    if m is None:
        return "-"
    text = f"{m.mean:.4f}" + (f" ± {m.std:.4f}" if m.seeds > 1 else "")
    if m.low is not None:
        text += f" [{m.low:.4f}, {m.high:.4f}]"
    if cell in expected:
        text += f" (exp {expected[cell]:.4f}, {_diff(m.mean - expected[cell])})"
    if cell in baseline:
        text += f" [was {baseline[cell].mean:.4f}, {_diff(m.mean - baseline[cell].mean)}]"
    return text


def _diff(value: float) -> str:
    # Rounded first, so that a difference of -0.00001 reads +0.0000, not -0.0000.
    return f"{round(value, 4) + 0.0:+.4f}"


def crossovers(measured: Mapping[Local, Measured]) -> list[str]:
    """In words, per learning curve and reference line on the same test language: the n at
    which the curve passes the reference (few-shot fr passes zero-shot de->fr), interpolated
    in log n."""
    sentences = []
    for strategy in curve_strategies(measured):
        for lang in lang_order({c[2] for c in measured if c[0] == strategy}):
            points = sorted(
                (m.size, m.mean)
                for (s, _, x), m in measured.items()
                if s == strategy and x == lang and m.size is not None
            )
            reference = next(m.reference for (s, _, _), m in measured.items() if s == strategy)
            for label, level in reference_lines(measured, reference, lang):
                what = f"{strategy} {lang}"
                line = f"{reference} {label}→{lang} ({level:.4f})"
                words = _crossover_words(what, line, level, points)
                paired = _paired_crossover(measured, strategy, (reference, label, lang))
                sentences.append(words + (f" Paired bootstrap: {paired}." if paired else ""))
    return sentences


def _paired_crossover(measured, strategy: str, reference_cell: Local) -> str | None:
    """Where the curve beats the reference by a paired bootstrap on the same test sentences
    (`between 500 and 1,000 sentences, 95% confident`), when every point has its counts."""
    zero = measured.get(reference_cell)
    curve = {
        m.size: m.counts
        for (s, _, x), m in measured.items()
        if s == strategy and x == reference_cell[2] and m.size is not None
    }
    if zero is None or zero.counts is None or any(c is None for c in curve.values()):
        return None
    if any(c.shape != zero.counts.shape for c in curve.values()):
        return None  # not the same test sentences
    return str(crossover(zero.counts, curve))


def reference_lines(measured, reference: str | None, lang: str) -> list[tuple[str, float]]:
    """(training label, mean F1) of each configuration of `reference` evaluated on `lang`."""
    return [
        (label, m.mean)
        for (s, label, x), m in sorted(measured.items(), key=lambda kv: row_key(kv[0]))
        if s == reference and x == lang and m.size is None
    ]


def _crossover_words(what: str, line: str, level: float, points: list) -> str:
    if points[0][1] >= level:
        return (
            f"{what} is already at or above {line} with the smallest sample, "
            f"n = {points[0][0]} (F1 {points[0][1]:.4f})."
        )
    for (n0, f0), (n1, f1) in itertools.pairwise(points):
        if f1 >= level:
            n = math.exp(math.log(n0) + (level - f0) / (f1 - f0) * (math.log(n1) - math.log(n0)))
            return (
                f"{what} passes {line} at about n = {n:.0f} (between n = {n0}, F1 {f0:.4f}, "
                f"and n = {n1}, F1 {f1:.4f}; interpolated linearly in log n)."
            )
    return f"{what} stays below {line} up to n = {points[-1][0]} (F1 {points[-1][1]:.4f})."


def tables(
    results: Iterable[Result],
    expected: Mapping[Cell, float] | None = None,
    baseline: Iterable[Result] | None = None,
    fmt: str = "github",
) -> str:
    """The report's tables as text: one per strategy, per-type F1, and the curves' crossovers.

    Rows are training configurations and columns evaluation languages, with the mean over
    them per row (a transfer matrix's mean per source); a learning curve is a row of sizes
    per test language. `fmt` is a tabulate format ("github" for Markdown, "simple" for a
    terminal). Each study has its own tables; with several, each study's are headed by its
    name (`## smoke`), with one they read as they always have.
    """
    results = list(results)
    measured = aggregate(results)
    expected = expected or {}
    base = aggregate(baseline) if baseline is not None else {}
    studies = sorted({cell.study for cell in measured})
    parts = []
    for study in studies:
        text = _study_tables(
            [r for r in results if r.study == study],
            _local(measured, study), _local(expected, study), _local(base, study), fmt,
        )  # fmt: skip
        parts.append(f"## {study or '(no study)'}\n\n{text}" if len(studies) > 1 else text)
    return "\n\n".join(parts) + "\n"


def _study_tables(
    results: list[Result],
    measured: Mapping[Local, Measured],
    expected: Mapping[Local, float],
    base: Mapping[Local, Measured],
    fmt: str,
) -> str:
    """One study's tables (`results` and the aggregates keyed within the study)."""
    strategies = sorted({cell[0] for cell in measured}, key=lambda s: (_strategy_rank(s), s))
    curves = curve_strategies(measured)
    parts = []
    for strategy in strategies:
        cells = [c for c in measured if c[0] == strategy]
        labels = sorted({c[1] for c in cells}, key=lambda lab: row_key((strategy, lab, "")))
        langs = lang_order({c[2] for c in cells})
        if strategy in curves:
            rows = [
                [f"F1 ({lang})"] + [_format((strategy, lab, lang), measured, expected, base)
                                    for lab in labels]
                for lang in langs
            ]  # fmt: skip
            headers = ["n"] + [str(measured[next(c for c in cells if c[1] == lab)].size)
                               for lab in labels]  # fmt: skip
        else:
            rows = [
                [label] + [_format((strategy, label, lang), measured, expected, base)
                           for lang in langs] + _mean_column(strategy, label, langs, measured)
                for label in labels
            ]  # fmt: skip
            headers = ["fine-tuned on"] + langs + (["mean"] if len(langs) > 1 else [])
        parts.append(
            f"### {strategy}\n\n"
            + tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
        )
    parts.extend(crossovers(measured))
    types = entity_types(results)
    per_type_rows = [
        [strategy, label, lang] + [_type_cell(m, t) for t in types]
        for (strategy, label, lang), m in sorted(measured.items(), key=lambda kv: row_key(kv[0]))
    ]  # fmt: skip
    if per_type_rows:
        parts.append(
            "### F1 per entity type\n\n"
            + tabulate(per_type_rows, headers=["strategy", "fine-tuned on", "test", *types],
                       tablefmt=fmt, disable_numparse=True)
        )  # fmt: skip
    seed_rows = [
        [r.strategy, r.config, r.eval_lang, str(r.seed), _seed_cell(r)]
        for r in sorted(
            {(cell_of(r), r.seed): r for r in results}.values(),
            key=lambda r: (*row_key(cell_of(r).local), r.seed),
        )
        if measured[cell_of(r).local].seeds > 1
    ]
    if seed_rows:
        parts.append(
            "### F1 per seed\n\n"
            + tabulate(seed_rows, headers=["strategy", "fine-tuned on", "test", "seed", "F1"],
                       tablefmt=fmt, disable_numparse=True)
        )  # fmt: skip
    return "\n\n".join(parts)


def entity_types(results: Iterable[Result]) -> tuple[str, ...]:
    """Every entity type the results' models predict, PAN-X's first in PAN-X's order."""
    from xner.spec.labels import order_types

    found = set()
    for r in results:
        found |= set(r.entity_types or ENTITY_TYPES) | set(r.per_type)
    return order_types(found)


def _type_cell(m: Measured, entity_type: str) -> str:
    """A type's F1, with its bootstrap interval where one seed gave it."""
    if entity_type not in m.per_type:
        # Scored types are those with an entity in the test set: this one has none there (a
        # type the model was trained on but the language's corpus lacks), so no F1, not 0.
        return "not in test"
    interval = (m.type_intervals or {}).get(entity_type)
    text = f"{m.per_type[entity_type]:.4f}"
    return text + (f" [{interval['low']:.4f}, {interval['high']:.4f}]" if interval else "")


def _seed_cell(result: Result) -> str:
    """One seed's F1 with its bootstrap interval: what the seeds' t-interval summarises."""
    if result.interval is None:
        return f"{result.f1:.4f}"
    micro = result.interval["micro"]
    return f"{result.f1:.4f} [{micro['low']:.4f}, {micro['high']:.4f}]"


def _mean_column(strategy: str, label: str, langs: list[str], measured) -> list[str]:
    """The mean F1 over a row's test languages (every one measured), or nothing for one."""
    if len(langs) < 2:
        return []
    row = [measured.get((strategy, label, lang)) for lang in langs]
    return ["-" if None in row else f"{statistics.fmean(m.mean for m in row):.4f}"]


def lang_order(langs: set[str]) -> list[str]:
    return sorted(langs, key=lambda lang: (_lang_rank(lang), lang))


def row_key(cell: Local) -> tuple:
    strategy, label, lang = cell
    size = int(label.rsplit(":", 1)[1]) if ":" in label else 0  # only to order the rows
    return (_strategy_rank(strategy), strategy, size, label.count("+"), label,
            _lang_rank(lang), lang)  # fmt: skip


def sort_key(cell: Cell) -> tuple:
    """The report's order of cells: by study, then as each study's tables order them."""
    return (cell.study, *row_key(cell.local))
