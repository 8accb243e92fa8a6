"""The pages: report.html for a run (written with its files) and history.html for a history
(`xner history`). Each is one self-contained file: styles inline, pictures embedded as base64
PNG, no script and nothing fetched, so it opens offline, mails as one attachment and prints.

Rendered with jinja2 templates (xner/reporting/templates/, autoescaped); the views here are
plain data. A page's sections beyond the study's tables come from SECTIONS: functions from a
run's results.json payload to Sections, so that what other parts of xner add to results.json
(findings, error analysis) is shown by adding one function, and anything not known to any of
them is still shown generically.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from xner.reporting.tables import (
    Measured,
    aggregate,
    crossovers,
    entity_types,
    flatten,
    lang_order,
    row_key,
    sort_key,
)
from xner.results.records import Result
from xner.spec.identity import Cell

# The fields every record has had since intervals came: a record's other non-empty fields
# (what later parts of xner add, e.g. error analysis) are shown as a section of their own.
CORE_FIELDS = frozenset(
    "strategy train_langs train_size eval_lang seed f1 precision recall per_type n_test model "
    "data_source train_seconds eval_seconds versions device config profile study "
    "strategy_version runtime train_steps seconds_per_step size reference interval "
    "sentence_counts entity_types test_fingerprint".split()
)
PAYLOAD_KEYS = frozenset({"schema", "run", "results", "expected"})  # shown by the page itself
MAX_COLUMNS = 24  # a generic table wider than this shows each row as `key: value` text


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    """A titled part of a page: paragraphs and tables of text (escaped by the template)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def cell_id(cell: Cell) -> str:
    """The value of a figure's `data-cell` attribute: `study|strategy|config|lang`."""
    return "|".join(cell)


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("xner.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,  # a misspelt name in a template is an error, not blank
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, **context) -> str:
    return _environment().get_template(template).render(**context)


def embed_png(path: str | Path) -> str:
    """A PNG file as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure of a table: its text, the interval beside it and the hover text."""

    cell: str  # cell_id, or "" for a figure that is not a cell's (a mean)
    text: str
    interval: str = ""
    title: str = ""
    css: str = ""


def _figure(cell: Cell, m: Measured | None, expected: float | None = None) -> Figure:
    if m is None:
        return Figure("", "-", title="not measured")
    interval = f"[{m.low:.3f}, {m.high:.3f}]" if m.low is not None else ""
    how = (
        f"t-interval over {m.seeds} seeds" if m.seeds > 1
        else "bootstrap over test sentences" if m.low is not None else "no interval recorded"
    )  # fmt: skip
    title = f"{cell.strategy} {cell.key}: F1 {m.mean:.4f}"
    if m.low is not None:
        title += f", 95% interval [{m.low:.4f}, {m.high:.4f}] ({how})"
    if m.seeds > 1:
        title += f"; ± {m.std:.4f} over seeds"
    if expected is not None:
        title += f"; expected {expected:.4f} ({m.mean - expected:+.4f})"
    return Figure(cell_id(cell), f"{m.mean:.4f}", interval, title)


def _strategy_tables(measured: Mapping[Cell, Measured], expected: Mapping[Cell, float]):
    """Per study and strategy: rows = training configurations, columns = test languages."""
    out = []
    for study in sorted({c.study for c in measured}):
        cells = {c: m for c, m in measured.items() if c.study == study}
        for strategy in dict.fromkeys(c.strategy for c in sorted(cells, key=sort_key)):
            mine = [c for c in cells if c.strategy == strategy]
            configs = sorted({c.config for c in mine}, key=lambda k: row_key((strategy, k, "")))
            langs = lang_order({c.lang for c in mine})
            rows = []
            for config in configs:
                figures = []
                for lang in langs:
                    cell = Cell(study, strategy, config, lang)
                    figures.append(_figure(cell, cells.get(cell), expected.get(cell)))
                rows.append((config, figures))
            out.append({"study": study, "strategy": strategy, "langs": langs, "rows": rows})
    return out


def _type_table(results: Sequence[Result], measured: Mapping[Cell, Measured]) -> Table:
    types = entity_types(results)
    rows = []
    for cell in sorted(measured, key=sort_key):
        m = measured[cell]
        row = [cell.study, cell.strategy, cell.config, cell.lang]
        for t in types:
            interval = (m.type_intervals or {}).get(t)
            if t not in m.per_type:
                row.append("not in test")
            elif interval:
                row.append(f"{m.per_type[t]:.4f} [{interval['low']:.4f}, {interval['high']:.4f}]")
            else:
                row.append(f"{m.per_type[t]:.4f}")
        rows.append(row)
    return Table(["study", "strategy", "fine-tuned on", "test", *types], rows)


# --- generic sections ------------------------------------------------------------------------


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(map(_text, value))
    if isinstance(value, dict | list):
        return "; ".join(f"{k}: {v}" for k, v in _flat(value).items())
    return "" if value is None else str(value)


def _flat(value, prefix: str = "") -> dict[str, str]:
    """Nested objects as `a.b.c -> text`, lists of scalars as one text."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out |= _flat(v, f"{prefix}{k}.")
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out |= _flat(v, f"{prefix}{i}.")
        return out
    return {prefix.rstrip("."): _text(value)}


def table_of(items: Iterable[Mapping], lead: Sequence[str] = ()) -> Table:
    """Objects as a table: one row each, one column per (flattened) key; beyond MAX_COLUMNS,
    one `details` column of `key: value` text."""
    flat = [_flat(dict(item)) for item in items]
    keys = list(dict.fromkeys([*lead, *(k for row in flat for k in row)]))
    if len(keys) <= MAX_COLUMNS:
        return Table(keys, [[row.get(k, "") for k in keys] for row in flat])
    rest = [k for k in keys if k not in lead]
    return Table(
        [*lead, "details"],
        [[*(row.get(k, "") for k in lead),
          "; ".join(f"{k}: {row[k]}" for k in rest if k in row)] for row in flat],
    )  # fmt: skip


def findings_section(payload: Mapping) -> list[Section]:
    """The study's findings and their verdicts, where the run judged any."""
    findings = payload.get("findings")
    if not findings:
        return []
    items = findings if isinstance(findings, list) else [
        {"name": k} | (v if isinstance(v, dict) else {"verdict": v}) for k, v in findings.items()
    ]  # fmt: skip
    return [Section("Findings", tables=[table_of(items, ("name",))])]


def record_sections(payload: Mapping) -> list[Section]:
    """Per-record fields beyond the core ones (error analysis and whatever comes later): one
    section per field, one row per record that has it."""
    records = payload.get("results", [])
    extra = list(dict.fromkeys(
        k for r in records for k, v in r.items() if k not in CORE_FIELDS and v not in (None, {}, [])
    ))  # fmt: skip
    sections = []
    for name in extra:
        rows = [
            {"study": r.get("study", r.get("profile", "")), "strategy": r["strategy"],
             "fine-tuned on": r.get("config", ""), "test": r["eval_lang"], "seed": r["seed"]}
            | (r[name] if isinstance(r[name], dict) else {name: r[name]})
            for r in records if r.get(name) not in (None, {}, [])
        ]  # fmt: skip
        lead = ("study", "strategy", "fine-tuned on", "test", "seed")
        sections.append(Section(name.replace("_", " ").capitalize(), tables=[table_of(rows, lead)]))
    return sections


def other_sections(payload: Mapping) -> list[Section]:
    """Any other top-level key of results.json, shown as it is."""
    known = PAYLOAD_KEYS | {"findings"}
    sections = []
    for key, value in payload.items():
        if key in known or value in (None, {}, []):
            continue
        title = key.replace("_", " ").capitalize()
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            sections.append(Section(title, tables=[table_of(value)]))
        elif isinstance(value, dict):
            sections.append(Section(title, tables=[Table(["key", "value"], [
                [k, v] for k, v in _flat(value).items()])]))  # fmt: skip
        else:
            sections.append(Section(title, paragraphs=[_text(value)]))
    return sections


# Each takes a results.json payload and gives the sections it knows how to show, in order.
SECTIONS: list[Callable[[Mapping], list[Section]]] = [
    findings_section,
    record_sections,
    other_sections,
]


# --- pages ---------------------------------------------------------------------------------


def _facts(run: Mapping) -> Table:
    keys = ("created", "commit", "device", "study", "model", "data", "seeds", "shard", "python",
            "platform")  # fmt: skip
    rows = [[k, _text(run.get(k))] for k in keys if run.get(k) not in (None, "")]
    rows += [[name, version] for name, version in run.get("versions", {}).items()]
    return Table(["", ""], rows)


def report_html(payload: Mapping, results: Sequence[Result], pictures: Sequence[Path]) -> str:
    """A run's page from its results.json payload, its records and its pictures."""
    from xner.reporting.output import expected_cells

    measured = aggregate(results)
    expected = expected_cells(payload.get("expected", []))
    sentences = []
    for study in sorted({c.study for c in measured}):
        sentences += crossovers(flatten({c: m for c, m in measured.items() if c.study == study}))
    sections = [s for build in SECTIONS for s in build(payload)]
    studies = sorted({c.study for c in measured})
    return _render(
        "report.html.j2",
        title=f"xner results: {', '.join(studies)}",
        facts=_facts(payload.get("run", {})),
        strategies=_strategy_tables(measured, expected),
        crossovers=sentences,
        types=_type_table(results, measured),
        sections=sections,
        pictures=[{"name": p.name, "src": embed_png(p)} for p in pictures],
        cells=len(measured),
    )


def history_html(history, pictures: Sequence[Path]) -> str:
    """A history's page (xner.reporting.history.History): its runs, the cells x runs table
    with each significant step highlighted, the flagged steps and the trend pictures."""
    from xner.reporting.history import cell_name, several_studies, step_line

    several = several_studies(history)
    rows = []
    for c in history.cells:
        steps = {s.after: s for s in c.steps}
        figures = []
        for i, m in enumerate(c.series):
            figure = _figure(c.cell, m)
            if m is None:
                figure.css = "missing"
            step = steps.get(i)
            if step is not None:
                d = step.difference
                if step.significant:
                    figure.css = "fall" if step.fell else "rise"
                    figure.text += " ▼" if step.fell else " ▲"
                elif step.why == "another test set":
                    figure.css = "untested"
                    figure.text += " ≠"
                figure.title += (
                    f"; step from {history.runs[step.before].label}: {step.change:+.4f}"
                    + (f" [{d.low:+.4f}, {d.high:+.4f}], p = {d.p_value:.3f}" if d else "")
                    + (f" (not tested: {step.why})" if step.why else "")
                    + (f"; changed: {'; '.join(step.changed)}" if step.changed else "")
                )
            figures.append(figure)
        rows.append((cell_name(c.cell, several), figures))
    runs = Table(
        ["run", "transformers", "commit", "created", "device", "file"],
        [[r.label, r.run.get("versions", {}).get("transformers", ""),
          str(r.run.get("commit", ""))[:12], str(r.run.get("created", "")),
          str(r.run.get("device", "")), r.source] for r in history.runs],
    )  # fmt: skip
    return _render(
        "history.html.j2",
        title="xner history",
        order=", ".join(history.order),
        resamples=history.resamples,
        runs=runs,
        labels=[r.label for r in history.runs],
        rows=rows,
        steps=[step_line(history, cell, step) for cell, step in history.flagged()],
        pictures=[{"name": p.name, "src": embed_png(p)} for p in pictures],
    )
