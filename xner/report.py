"""The report's tables and plots, from Result records: measured F1 (mean and standard
deviation over seeds), beside an expected figure and a saved run's where given."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from xner.data import ENTITY_TYPES
from xner.results import Result
from xner.scenarios import STUDY_LANGS

Cell = tuple[str, str, str]  # (strategy, configuration label, evaluation language)
STRATEGY_ORDER = ("zero-shot", "few-shot", "multilingual", "full")


@dataclass(frozen=True)
class Measured:
    """F1 of one cell over its seeds."""

    mean: float
    std: float
    seeds: int
    per_type: dict[str, float]
    train_size: int


def cell_of(result: Result) -> Cell:
    return (result.strategy, result.config, result.eval_lang)


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
            for t in ENTITY_TYPES
            if any(t in r.per_type for r in runs)
        }
        measured[cell] = Measured(
            mean=statistics.fmean(f1s),
            std=statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
            seeds=len(f1s),
            per_type=per_type,
            train_size=runs[0].train_size,
        )
    return measured


def _size_of(label: str) -> int | None:
    return int(label.rsplit(":", 1)[1]) if ":" in label else None


def _format(
    cell: Cell,
    measured: Mapping[Cell, Measured],
    expected: Mapping[Cell, float],
    baseline: Mapping[Cell, Measured],
) -> str:
    m = measured.get(cell)
    if m is None:
        return "-"
    text = f"{m.mean:.4f}" + (f" ± {m.std:.4f}" if m.seeds > 1 else "")
    if cell in expected:
        text += f" (exp {expected[cell]:.4f}, {_diff(m.mean - expected[cell])})"
    if cell in baseline:
        text += f" [was {baseline[cell].mean:.4f}, {_diff(m.mean - baseline[cell].mean)}]"
    return text


def _diff(value: float) -> str:
    # Rounded first, so that a difference of -0.00001 reads +0.0000, not -0.0000.
    return f"{round(value, 4) + 0.0:+.4f}"


def crossover(measured: Mapping[Cell, Measured]) -> str | None:
    """In words: the n at which few-shot fr passes zero-shot fr, interpolated in log n."""
    zero = measured.get(("zero-shot", "de", "fr"))
    points = sorted(
        (_size_of(label), m.mean)
        for (strategy, label, lang), m in measured.items()
        if strategy == "few-shot" and lang == "fr" and _size_of(label) is not None
    )
    if zero is None or not points:
        return None
    level = zero.mean
    if points[0][1] >= level:
        return (
            f"Few-shot fr is already at or above zero-shot fr ({level:.4f}) with the smallest "
            f"sample, n = {points[0][0]} (F1 {points[0][1]:.4f})."
        )
    for (n0, f0), (n1, f1) in itertools.pairwise(points):
        if f1 >= level:
            n = math.exp(math.log(n0) + (level - f0) / (f1 - f0) * (math.log(n1) - math.log(n0)))
            return (
                f"Few-shot fr passes zero-shot fr ({level:.4f}) at about n = {n:.0f} "
                f"(between n = {n0}, F1 {f0:.4f}, and n = {n1}, F1 {f1:.4f}; "
                "interpolated linearly in log n)."
            )
    return (
        f"Few-shot fr stays below zero-shot fr ({level:.4f}) up to n = {points[-1][0]} "
        f"(F1 {points[-1][1]:.4f})."
    )


def tables(
    results: Iterable[Result],
    expected: Mapping[Cell, float] | None = None,
    baseline: Iterable[Result] | None = None,
    fmt: str = "github",
) -> str:
    """The report's tables as text: one per strategy, per-type F1, and the few-shot crossover.

    Rows are training configurations and columns evaluation languages; few-shot is a row of
    sizes. `fmt` is a tabulate format ("github" for Markdown, "simple" for a terminal).
    """
    measured = aggregate(results)
    expected = expected or {}
    base = aggregate(baseline) if baseline is not None else {}
    strategies = sorted(
        {cell[0] for cell in measured},
        key=lambda s: (STRATEGY_ORDER.index(s) if s in STRATEGY_ORDER else len(STRATEGY_ORDER), s),
    )
    parts = []
    for strategy in strategies:
        cells = [c for c in measured if c[0] == strategy]
        if strategy == "few-shot":
            labels = sorted({c[1] for c in cells}, key=lambda lab: (_size_of(lab) or 0, lab))
            langs = sorted({c[2] for c in cells})
            rows = [
                [f"F1 ({lang})"] + [_format((strategy, lab, lang), measured, expected, base)
                                    for lab in labels]
                for lang in langs
            ]  # fmt: skip
            headers = ["n"] + [str(_size_of(lab)) for lab in labels]
        else:
            labels = sorted({c[1] for c in cells}, key=lambda lab: _sort_key((strategy, lab, "")))
            langs = _lang_order({c[2] for c in cells})
            rows = [
                [label] + [_format((strategy, label, lang), measured, expected, base)
                           for lang in langs]
                for label in labels
            ]  # fmt: skip
            headers = ["fine-tuned on"] + langs
        parts.append(
            f"### {strategy}\n\n"
            + tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
        )
    words = crossover(measured)
    if words:
        parts.append(words)
    per_type_rows = [
        [strategy, label, lang] + [f"{m.per_type[t]:.4f}" if t in m.per_type else "-"
                                   for t in ENTITY_TYPES]
        for (strategy, label, lang), m in sorted(measured.items(), key=lambda kv: _sort_key(kv[0]))
    ]  # fmt: skip
    if per_type_rows:
        parts.append(
            "### F1 per entity type\n\n"
            + tabulate(per_type_rows, headers=["strategy", "fine-tuned on", "test", *ENTITY_TYPES],
                       tablefmt=fmt, disable_numparse=True)
        )  # fmt: skip
    return "\n\n".join(parts) + "\n"


_LANG_RANK = {lang: i for i, lang in enumerate(STUDY_LANGS)}


def _lang_order(langs: set[str]) -> list[str]:
    return sorted(langs, key=lambda lang: (_LANG_RANK.get(lang, len(_LANG_RANK)), lang))


def _sort_key(cell: Cell) -> tuple:
    strategy, label, lang = cell
    rank = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)
    return (rank, strategy, _size_of(label) or 0, label.count("+"), label,
            _LANG_RANK.get(lang, len(_LANG_RANK)), lang)  # fmt: skip


def plot_few_shot(results: Iterable[Result], path: str | Path) -> Path | None:
    """F1 against n on a log axis, zero-shot fr as a horizontal line, as the report draws it."""
    measured = aggregate(results)
    points = sorted(
        (_size_of(label), m)
        for (strategy, label, lang), m in measured.items()
        if strategy == "few-shot" and lang == "fr" and _size_of(label) is not None
    )
    if not points:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ns = [n for n, _ in points]
    ax.errorbar(
        ns, [m.mean for _, m in points], yerr=[m.std for _, m in points], marker="o",
        capsize=3, label="few-shot (fr only)",
    )  # fmt: skip
    zero = measured.get(("zero-shot", "de", "fr"))
    if zero is not None:
        ax.axhline(
            zero.mean, color="tab:red", linestyle="--", label=f"zero-shot de→fr {zero.mean:.3f}"
        )
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.xaxis.set_minor_formatter(_pyplot().NullFormatter())  # only the sizes, no 6x10^1
    ax.set_xlabel("French training sentences (n, log scale)")
    ax.set_ylabel("entity F1 on fr test")
    ax.set_title("Few-shot French vs zero-shot transfer from German")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_transfer(results: Iterable[Result], path: str | Path) -> Path | None:
    """Heatmap of mean F1: training configuration (rows) against evaluation language."""
    measured = aggregate(results)
    rows = sorted({(s, label) for s, label, _ in measured}, key=lambda k: _sort_key((*k, "")))
    langs = _lang_order({lang for _, _, lang in measured})
    if not rows:
        return None
    grid = [[measured[(s, lab, lang)].mean if (s, lab, lang) in measured else math.nan
             for lang in langs] for s, lab in rows]  # fmt: skip
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.4 * len(langs) + 3, 0.45 * len(rows) + 1.5), dpi=120)
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(rows)), [f"{s}: {lab}" for s, lab in rows])
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("fine-tuned on")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if not math.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                        color="black" if value > 0.6 else "white", fontsize=8)  # fmt: skip
    fig.colorbar(image, ax=ax, label="entity F1")
    ax.set_title("Cross-lingual transfer (entity F1)")
    return _save(fig, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    """Save through a temporary file in the same folder, removed on any error."""
    import io

    from xner.results import write_atomic

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    _pyplot().close(fig)
    return write_atomic(path, buffer.getvalue())
