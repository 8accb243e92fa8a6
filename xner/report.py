"""The report's tables and plots, from Result records: measured F1 (mean and standard
deviation over seeds), beside an expected figure and a saved run's where given."""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tabulate import tabulate

from xner.identity import Cell
from xner.intervals import crossover, decode_counts, t_interval
from xner.labels import ENTITY_TYPES
from xner.results import Result

Local = tuple[str, str, str]  # a cell within one study's tables: (strategy, config, lang)
ANNOTATE_UP_TO = 16  # heatmap columns up to which each cell is labelled with its F1


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
    from xner.study import load_study

    report = load_study("report")
    return tuple(report.strategies), tuple(report.languages)


def __getattr__(name: str):
    # STRATEGY_ORDER and LANG_ORDER were module constants: still readable, loaded lazily.
    if name == "STRATEGY_ORDER":
        return _report_orders()[0]
    if name == "LANG_ORDER":
        return _report_orders()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def _flatten(measured: Mapping[Cell, Measured]) -> dict[Local, Measured]:
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


def _curve_strategies(measured: Mapping[Local, Measured]) -> list[str]:
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
    for strategy in _curve_strategies(measured):
        for lang in _lang_order({c[2] for c in measured if c[0] == strategy}):
            points = sorted(
                (m.size, m.mean)
                for (s, _, x), m in measured.items()
                if s == strategy and x == lang and m.size is not None
            )
            reference = next(m.reference for (s, _, _), m in measured.items() if s == strategy)
            for label, level in _reference_lines(measured, reference, lang):
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


def _reference_lines(measured, reference: str | None, lang: str) -> list[tuple[str, float]]:
    """(training label, mean F1) of each configuration of `reference` evaluated on `lang`."""
    return [
        (label, m.mean)
        for (s, label, x), m in sorted(measured.items(), key=lambda kv: _sort_key(kv[0]))
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
            [r for r in results if r.profile == study],
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
    curves = _curve_strategies(measured)
    parts = []
    for strategy in strategies:
        cells = [c for c in measured if c[0] == strategy]
        labels = sorted({c[1] for c in cells}, key=lambda lab: _sort_key((strategy, lab, "")))
        langs = _lang_order({c[2] for c in cells})
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
        for (strategy, label, lang), m in sorted(measured.items(), key=lambda kv: _sort_key(kv[0]))
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
            key=lambda r: (*_sort_key(cell_of(r).local), r.seed),
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
    from xner.corpus import order_types

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


def _lang_order(langs: set[str]) -> list[str]:
    return sorted(langs, key=lambda lang: (_lang_rank(lang), lang))


def _sort_key(cell: Local) -> tuple:
    strategy, label, lang = cell
    size = int(label.rsplit(":", 1)[1]) if ":" in label else 0  # only to order the rows
    return (_strategy_rank(strategy), strategy, size, label.count("+"), label,
            _lang_rank(lang), lang)  # fmt: skip


def sort_key(cell: Cell) -> tuple:
    """The report's order of cells: by study, then as each study's tables order them."""
    return (cell.study, *_sort_key(cell.local))


def plot_few_shot(results: Iterable[Result], path: str | Path) -> Path | None:
    """F1 against n on a log axis, one line per learning curve and test language, and each
    reference configuration on that language as a horizontal line, as the report draws it."""
    measured = _flatten(aggregate(results))
    curves = _curve_strategies(measured)
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    sizes: set[int] = set()
    for strategy in curves:
        for lang in _lang_order({c[2] for c in measured if c[0] == strategy}):
            points = sorted(
                (m.size, m)
                for (s, _, x), m in measured.items()
                if s == strategy and x == lang and m.size is not None
            )
            ns = [n for n, _ in points]
            sizes.update(ns)
            ax.errorbar(
                ns, [m.mean for _, m in points], yerr=_error_bars([m for _, m in points]),
                marker="o", capsize=3, label=f"{strategy} ({lang} only)",
            )  # fmt: skip
            reference = points[0][1].reference
            for label, level in _reference_lines(measured, reference, lang):
                ax.axhline(
                    level, linestyle="--", color="tab:red" if len(curves) == 1 else None,
                    label=f"{reference} {label}→{lang} {level:.3f}",
                )  # fmt: skip
    ticks = sorted(sizes)
    ax.set_xscale("log")
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())  # only the sizes, no 6x10^1
    ax.set_xlabel("training sentences (n, log scale)")
    ax.set_ylabel("entity F1 on the test language")
    ax.set_title("Learning curves against transfer")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def _error_bars(points: list[Measured]) -> list[list[float]]:
    """Distances below and above each mean to its interval (the 95% band), or ± the standard
    deviation where the records carry no interval."""
    # A percentile interval can sit beside its estimate in degenerate cases: never negative.
    below = [max(0.0, m.mean - m.low) if m.low is not None else m.std for m in points]
    above = [max(0.0, m.high - m.mean) if m.high is not None else m.std for m in points]
    return [below, above]


def plot_transfer(results: Iterable[Result], path: str | Path) -> Path | None:
    """Heatmap of mean F1: training configuration (rows) against evaluation language.

    The colour scale is fixed at 0..1 so that two plots compare; up to ANNOTATE_UP_TO columns
    each cell carries its F1, beyond that (a 40-language matrix) the colours alone, with the
    column labels turned upright and the figure capped at a width that stays readable.
    """
    measured = {c: m for c, m in _flatten(aggregate(results)).items() if m.size is None}
    rows = sorted({(s, label) for s, label, _ in measured}, key=lambda k: _sort_key((*k, "")))
    langs = _lang_order({lang for _, _, lang in measured})
    if not rows:
        return None
    grid = [[measured[(s, lab, lang)].mean if (s, lab, lang) in measured else math.nan
             for lang in langs] for s, lab in rows]  # fmt: skip
    plt = _pyplot()
    annotate = len(langs) <= ANNOTATE_UP_TO
    width = min(18, 3 + (1.1 if annotate else 0.35) * len(langs))
    fig, ax = plt.subplots(figsize=(width, 0.45 * len(rows) + 1.8), dpi=120)
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(langs)), langs, rotation=0 if annotate else 90)
    ax.set_yticks(range(len(rows)), [f"{s}: {lab}" for s, lab in rows])
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("fine-tuned on")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if annotate and not math.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                        color="black" if value > 0.6 else "white", fontsize=8)  # fmt: skip
    fig.colorbar(image, ax=ax, label="entity F1", fraction=0.04 if not annotate else 0.15)
    ax.set_title("Cross-lingual transfer (entity F1)")
    return _save(fig, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    """Save through xner's one writer (a temporary file in the same folder, renamed)."""
    from xner.writer import write_figure

    fig.tight_layout()
    try:
        return write_figure(fig, path)
    finally:
        _pyplot().close(fig)
