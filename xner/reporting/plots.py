"""The report's plots, from Result records: few_shot.png (F1 against n with its interval) and
transfer.png (training configuration against evaluation language)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from xner.reporting.tables import (
    Measured,
    aggregate,
    curve_strategies,
    flatten,
    lang_order,
    reference_lines,
    row_key,
)
from xner.results.records import Result

ANNOTATE_UP_TO = 16  # heatmap columns up to which each cell is labelled with its F1


def plot_few_shot(results: Iterable[Result], path: str | Path) -> Path | None:
    """F1 against n on a log axis, one line per learning curve and test language, and each
    reference configuration on that language as a horizontal line, as the report draws it."""
    measured = flatten(aggregate(results))
    curves = curve_strategies(measured)
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    sizes: set[int] = set()
    for strategy in curves:
        for lang in lang_order({c[2] for c in measured if c[0] == strategy}):
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
            for label, level in reference_lines(measured, reference, lang):
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
    measured = {c: m for c, m in flatten(aggregate(results)).items() if m.size is None}
    rows = sorted({(s, label) for s, label, _ in measured}, key=lambda k: row_key((*k, "")))
    langs = lang_order({lang for _, _, lang in measured})
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
