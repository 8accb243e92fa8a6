"""errors.png: the type confusion of one training configuration, one heatmap per evaluation
language, in a grid that stays readable from 4 to 40 languages.

The configuration shown is the one evaluated on the most languages (the transfer matrix's
row, in a study that has one; ties: the first in the report's order). Each heatmap is gold type
(rows, and "spurious" for predictions paired with no gold entity) against predicted type
(columns, and "missed"), summed over seeds; the colour is the share of its row, so languages
of different test sizes compare, and each cell is labelled with its count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from xner.reporting.plots import _pyplot
from xner.reporting.tables import lang_order, row_key
from xner.results.errors import MISSED, SPURIOUS
from xner.results.records import Result

ANNOTATE_UP_TO = 8  # matrix side up to which each cell shows its count


def shown_configuration(results: Iterable[Result]) -> tuple[tuple[str, str, str], list[Result]]:
    """((study, strategy, config), its records that carry an error analysis)."""
    by_config: dict[tuple[str, str, str], list[Result]] = {}
    for r in results:
        if r.errors is not None:
            by_config.setdefault((r.study, r.strategy, r.config), []).append(r)
    if not by_config:
        return ("", "", ""), []
    best = max(
        sorted(by_config, key=lambda k: row_key((k[1], k[2], ""))),
        key=lambda k: len({r.eval_lang for r in by_config[k]}),
    )
    return best, by_config[best]


def confusion_by_language(records: Iterable[Result]) -> dict[str, dict[str, dict[str, int]]]:
    """Per evaluation language the confusion matrix summed over its seeds."""
    summed: dict[str, dict[str, dict[str, int]]] = {}
    for r in records:
        table = summed.setdefault(r.eval_lang, {})
        for gold, row in r.errors["confusion"].items():
            for pred, n in row.items():
                table.setdefault(gold, {})[pred] = table.get(gold, {}).get(pred, 0) + n
    return summed


def plot_errors(results: Iterable[Result], path: str | Path) -> Path | None:
    """The grid of confusion heatmaps (module docstring), or None without error analyses."""
    (study, strategy, config), records = shown_configuration(results)
    if not records:
        return None
    tables = confusion_by_language(records)
    langs = lang_order(set(tables))
    named = {t for table in tables.values() for row in table.values() for t in row}
    named |= {t for table in tables.values() for t in table}
    types = sorted(named - {MISSED, SPURIOUS})
    rows, columns = [*types, SPURIOUS], [*types, MISSED]
    plt = _pyplot()
    # Nearly square up to 9 languages, wider than high beyond (a page is wider than high).
    wide = 1.0 if len(langs) <= 9 else 1.6
    ncols = max(1, min(len(langs), math.ceil(math.sqrt(len(langs) * wide))))
    nrows = math.ceil(len(langs) / ncols)
    side = 2.4 if len(langs) <= 16 else 1.9
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(side * ncols + 1.2, side * nrows + 0.8), dpi=110, squeeze=False
    )
    annotate = len(columns) <= ANNOTATE_UP_TO
    image = None
    for k, ax in enumerate(axes.flat):
        if k >= len(langs):
            ax.axis("off")
            continue
        lang = langs[k]
        counts = [[tables[lang].get(g, {}).get(p, 0) for p in columns] for g in rows]
        shares = [[n / (sum(row) or 1) for n in row] for row in counts]
        image = ax.imshow(shares, vmin=0, vmax=1, cmap="magma_r")
        ax.set_title(lang, fontsize=9)
        left, bottom = k % ncols == 0, k // ncols == nrows - 1 or k + ncols >= len(langs)
        ax.set_xticks(range(len(columns)), columns if bottom else [], rotation=90, fontsize=7)
        ax.set_yticks(range(len(rows)), rows if left else [], fontsize=7)
        if annotate:
            for i, row in enumerate(counts):
                for j, n in enumerate(row):
                    if n:
                        color = "white" if shares[i][j] > 0.55 else "black"
                        ax.text(j, i, str(n), ha="center", va="center", fontsize=6, color=color)
    fig.suptitle(
        f"Entity type confusion, {study} {strategy} {config}: gold (rows) x predicted",
        fontsize=10,
    )
    # Laid out by hand: tight_layout cannot place a colorbar shared by a grid.
    fig.subplots_adjust(left=0.1, right=0.86, bottom=0.12, top=0.9, wspace=0.15, hspace=0.4)
    bar = fig.add_axes((0.9, 0.2, 0.015, 0.6))
    fig.colorbar(image, cax=bar, label="share of the gold row")
    return _save_fitted(fig, path, plt)


def _save_fitted(fig, path: str | Path, plt) -> Path:
    from xner.writer import write_figure

    try:
        return write_figure(fig, path)
    finally:
        plt.close(fig)
