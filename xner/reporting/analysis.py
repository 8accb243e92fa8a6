"""tables.md's error analysis and transfer factors, from the records' `errors` and `factors`.

Per strategy, where F1 is lost: per cell (summed over seeds) the entities found exactly
(strict correct), found with the wrong type (ent_type incorrect: the span overlaps, the type
differs), found with wrong boundaries (exact incorrect: the span overlaps, not exactly),
missed and spurious (strict). Per strategy, what drives transfer: each cell's F1 beside its
evaluation language's fertility (subwords per word), share of words split, share of words lost
to truncation and gold entity types' shares; and for each configuration evaluated on three or
more languages it was not trained on (a transfer matrix's row), Spearman's rank correlation of
F1 with each factor across those targets, with its p-value (scipy.stats.spearmanr).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

from tabulate import tabulate

from xner.reporting.tables import row_key
from xner.results.records import Result

ERRORS_INTRO = (
    "Entities per cell, summed over seeds (SemEval-2013 task 9.1 categories by nervaluate): "
    "correct, missed and spurious = strict view; wrong type = ent_type incorrect (overlaps "
    "a gold entity of another type); wrong boundary = exact incorrect (overlaps it with "
    "other boundaries). An entity wrong in both counts in both."
)
FACTORS_INTRO = (
    "Per evaluation language: subwords per word, share of words split into more than one "
    "subword and share of words lost to truncation (test split, the model's tokenizer), "
    "and the gold entity types' shares."
)
MIN_TARGETS = 3  # fewer ranks than this say nothing


def _cells(results: Iterable[Result]) -> dict[tuple[str, str, str, str], list[Result]]:
    cells: dict[tuple[str, str, str, str], list[Result]] = {}
    for r in results:
        cells.setdefault((r.study, r.strategy, r.config, r.eval_lang), []).append(r)
    return dict(sorted(cells.items(), key=lambda kv: (kv[0][0], row_key(kv[0][1:]))))


def _cells_with(results: Iterable[Result], field: str) -> dict:
    """`_cells` of the records that carry `field` (errors, factors); cells without any left out."""
    cells = {k: [r for r in v if getattr(r, field)] for k, v in _cells(results).items()}
    return {k: v for k, v in cells.items() if v}


def _strategy_tables(results, field: str, title: str, intro: str, table, fmt: str) -> str:
    """A section of tables.md: per (study, strategy), `table(group)` -> (headers, rows, text
    after the table) over the cells whose records carry `field`; "" where none does."""
    cells = _cells_with(results, field)
    if not cells:
        return ""
    text = f"## {title}\n\n{intro}\n\n"
    for (study, strategy), group in _by_strategy(cells).items():
        headers, rows, after = table(group)
        text += f"### {study} {strategy}\n\n"
        text += tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True) + "\n\n"
        text += after
    return text


def error_tables(results: Sequence[Result], fmt: str = "github") -> str:
    return _strategy_tables(results, "errors", "Where F1 is lost", ERRORS_INTRO, _error_rows, fmt)


def _error_rows(group) -> tuple[list, list, str]:
    rows = []
    for (_, _, config, lang), records in group:
        total = {
            name: sum(r.errors["categories"][view][cat] for r in records)
            for name, view, cat in _COLUMNS
        }
        gold = sum(r.errors["categories"]["strict"]["correct"] for r in records) + sum(
            r.errors["categories"]["strict"][c] for r in records
            for c in ("incorrect", "partial", "missed")
        )  # fmt: skip
        rows.append([config, lang, f"{_mean_f1(records):.4f}", gold, *total.values()])
    headers = ["fine-tuned on", "test", "F1", "gold", *(name for name, _, _ in _COLUMNS)]
    return headers, rows, ""


_COLUMNS = (
    ("correct", "strict", "correct"),
    ("wrong type", "ent_type", "incorrect"),
    ("wrong boundary", "exact", "incorrect"),
    ("missed", "strict", "missed"),
    ("spurious", "strict", "spurious"),
)


def factor_tables(results: Sequence[Result], fmt: str = "github") -> str:
    return _strategy_tables(
        results, "factors", "What drives transfer", FACTORS_INTRO, _factor_rows, fmt
    )


def _factor_rows(group) -> tuple[list, list, str]:
    types = sorted({t for _, rs in group for t in rs[0].factors["entity_types"]["shares"]})
    rows = []
    for (_, _, config, lang), records in group:
        f = records[0].factors
        rows.append([
            config, lang, f"{_mean_f1(records):.4f}", f"{f['fertility']:.3f}",
            f"{100 * f['split_share']:.1f}%", f"{100 * f['truncated_share']:.2f}%",
            *(f"{100 * f['entity_types']['shares'].get(t, 0):.1f}%" for t in types),
        ])  # fmt: skip
    headers = ["fine-tuned on", "test", "F1", "subwords/word", "split", "truncated",
               *types]  # fmt: skip
    return headers, rows, _correlations(group)


def factor_values(result: Result) -> dict[str, float]:
    """The factors correlated with transfer F1, by name."""
    f = result.factors
    return {
        "subwords/word": f["fertility"],
        "split": f["split_share"],
        "truncated": f["truncated_share"],
        **{f"{t} share": s for t, s in f["entity_types"]["shares"].items()},
    }


def correlations(group: Sequence[tuple[tuple, list[Result]]]) -> dict[str, dict[str, tuple]]:
    """Per configuration evaluated on MIN_TARGETS or more languages it was not trained on:
    per factor (Spearman's rho, p-value, targets); rho is nan where a factor or F1 is constant
    across the targets."""
    from scipy.stats import spearmanr

    rows: dict[str, list[list[Result]]] = {}
    for (_, _, config, lang), records in group:
        if lang not in records[0].train_langs:
            rows.setdefault(config, []).append(records)
    found = {}
    for config, targets in rows.items():
        if len(targets) < MIN_TARGETS:
            continue
        f1 = [_mean_f1(records) for records in targets]
        values = [factor_values(records[0]) for records in targets]
        found[config] = {}
        for name in values[0]:
            xs = [v.get(name, 0.0) for v in values]
            if len(set(xs)) < 2 or len(set(f1)) < 2:
                found[config][name] = (math.nan, math.nan, len(targets))
                continue
            rho, p = spearmanr(f1, xs)
            found[config][name] = (float(rho), float(p), len(targets))
    return found


def _correlations(group) -> str:
    text = ""
    for config, by_factor in correlations(group).items():
        n = next(iter(by_factor.values()))[2]
        parts = [
            f"{name} " + ("constant" if math.isnan(rho) else f"{rho:+.2f} (p = {p:.3f})")
            for name, (rho, p, _) in by_factor.items()
        ]
        text += (
            f"Spearman correlation of transfer F1 from {config} with each factor across its "
            f"{n} targets: {'; '.join(parts)}.\n\n"
        )
    return text


def _by_strategy(cells: dict) -> dict[tuple[str, str], list]:
    groups: dict[tuple[str, str], list] = {}
    for key, records in cells.items():
        groups.setdefault((key[0], key[1]), []).append((key, records))
    return groups


def _mean_f1(records: Sequence[Result]) -> float:
    return statistics.fmean(r.f1 for r in records)
