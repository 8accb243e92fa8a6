"""A history of runs: every cell's figures across saved runs (releases, commits, dates,
devices), ordered, with each step between neighbouring runs tested by the paired bootstrap
that `xner compare` uses. `xner history RUN...` writes history.md, history.json, history.csv,
one trend picture per strategy and history.html.

A step is tested only where both runs scored the same test sentences: where the splits'
fingerprints (a record's `test_fingerprint`) differ, or, for records without one, where the
number of test sentences or of gold entities differs, the step is "not compared" rather than
a fall that is really another test set.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from xner.errors import XnerError
from xner.reporting.tables import Measured, aggregate, sort_key
from xner.results.intervals import BOOTSTRAP_RESAMPLES, Difference, paired_bootstrap
from xner.results.records import Result, load_results
from xner.spec.identity import Cell
from xner.spec.runtime import describe

RESULTS_FILE = "results.json"
# The default order: transformers release, then commit (in the order each first ran), then
# the run's date; `--by` replaces it.
DEFAULT_ORDER = ("transformers", "commit", "created")
# Run facts a step names when they differ between its two runs (besides every library
# version and every recipe setting); `created` is left out: it always differs.
COMPARED_FACTS = ("commit", "device", "machine", "python", "model", "data", "seeds")


class HistoryError(XnerError, ValueError):
    """Runs `xner history` cannot read or order: one line naming the path or field."""


@dataclass(frozen=True)
class Run:
    """One saved run: where it came from, its run facts and its records."""

    source: str  # the results.json it was read from
    run: dict
    results: list[Result]
    label: str = ""  # its column's name in the history (set once every run is known)


@dataclass(frozen=True)
class Step:
    """A cell between two neighbouring runs that have it (after - before)."""

    before: int  # index of the earlier run in the history's order
    after: int
    change: float
    difference: Difference | None  # None: not tested (see `why`)
    why: str = ""  # why not tested: another test set, several seeds, no sentence counts
    changed: tuple[str, ...] = ()  # the run facts that differ between the two runs

    @property
    def significant(self) -> bool:
        return self.difference is not None and self.difference.significant

    @property
    def fell(self) -> bool:
        return self.significant and self.change < 0


@dataclass
class CellHistory:
    """One cell over the runs: its figure in each (None where a run lacks it), its steps."""

    cell: Cell
    series: list[Measured | None]
    steps: list[Step] = field(default_factory=list)


@dataclass
class History:
    runs: list[Run]
    order: tuple[str, ...]
    cells: list[CellHistory]
    resamples: int

    def flagged(self) -> list[tuple[Cell, Step]]:
        """Every significant step, in the cells' order."""
        return [(c.cell, s) for c in self.cells for s in c.steps if s.significant]

    def falls_into_last(self) -> list[tuple[Cell, Step]]:
        """Significant falls into the newest run of the order: what CI fails on."""
        last = len(self.runs) - 1
        return [(c, s) for c, s in self.flagged() if s.fell and s.after == last]


# --- reading -------------------------------------------------------------------------------


def run_files(paths: Iterable[str | Path]) -> list[Path]:
    """The results.json files named by `paths`: files as they are, a folder holding a
    results.json as that run, any other folder (a history store) as every subfolder's."""
    found = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(path)
        elif (path / RESULTS_FILE).is_file():
            found.append(path / RESULTS_FILE)
        elif path.is_dir():
            inside = sorted(path.glob(f"*/{RESULTS_FILE}"))
            if not inside:
                raise HistoryError(f"{path}: no {RESULTS_FILE} in it or in its subfolders")
            found.extend(inside)
        else:
            raise HistoryError(f"{path}: no such file or folder (a results.json or a history)")
    return found


def load_runs(paths: Iterable[str | Path], studies: Sequence[str] = ()) -> list[Run]:
    """Every run named by `paths` (see run_files), checked whole by load_results; `studies`
    keeps only those studies' records (a run left with none is an error naming it)."""
    runs = []
    for path in run_files(paths):
        loaded = load_results(path)
        results = [r for r in loaded.results if not studies or r.study in studies]
        if not results:
            raise HistoryError(f"{path}: no record of the study {', '.join(studies)}")
        runs.append(Run(str(path), dict(loaded.run), results))
    return runs


# --- ordering ------------------------------------------------------------------------------


def raw_fact(run: Run, name: str) -> object:
    """A run fact by name, as results.json holds it: a `run` key (`commit`, `device`,
    `created`), a dotted path (`versions.torch`, `recipes.smoke.learning_rate`) or a
    library's name (`transformers`); None where the run has no such fact."""
    value: object = run.run
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None and "." not in name:
        value = run.run.get("versions", {}).get(name)
    return value


def fact(run: Run, name: str) -> str:
    """A run fact as text ("" where the run has none)."""
    value = raw_fact(run, name)
    return "" if value is None else str(value)


def _value_key(value: object) -> tuple:
    """Numbers in numeric order, then versions in release order (4.9 before 4.40), then any
    other text; (kind, value) pairs, so that the order is total."""
    from packaging.version import InvalidVersion, Version

    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    text = "" if value is None else str(value)
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (2, text)


def order_runs(runs: Sequence[Run], fields: Sequence[str] = DEFAULT_ORDER) -> list[Run]:
    """The runs in the history's order: by each field in turn (versions in release order,
    commits in the order they first ran, dates as ISO text), the source path last."""
    first_ran: dict[tuple, str] = {}
    for run in runs:
        for i, name in enumerate(fields):
            if name == "commit":
                prefix = (*(fact(run, f) for f in fields[: i + 1]),)
                created = fact(run, "created")
                first_ran[prefix] = min(first_ran.get(prefix, created), created)

    def key(run: Run) -> tuple:
        parts = []
        for i, name in enumerate(fields):
            value = fact(run, name)
            if name == "commit":
                # A commit sorts where it first ran among runs alike in the fields before it.
                parts.append((first_ran[(*(fact(run, f) for f in fields[: i + 1]),)], value))
            elif name in ("created", "date"):
                parts.append((value,))
            else:
                parts.append(_value_key(raw_fact(run, name)))
        return (*parts, run.source)

    return sorted(runs, key=key)


def latest_per(runs: Sequence[Run], name: str) -> list[Run]:
    """Of the runs sharing a value of fact `name` (a transformers line), only the newest."""
    newest: dict[str, Run] = {}
    for run in runs:
        value = fact(run, name)
        if value not in newest or fact(run, "created") >= fact(newest[value], "created"):
            newest[value] = run
    return [r for r in runs if newest[fact(r, name)] is r]


def changed_facts(a: Run, b: Run) -> tuple[str, ...]:
    """What differs between two runs: library versions, commit, device, recipe settings,
    the records' runtime; `name a -> b` each."""
    changes = []
    names = list(COMPARED_FACTS)
    for key in sorted(set(a.run.get("versions", {})) | set(b.run.get("versions", {}))):
        names.append(f"versions.{key}")
    for study in sorted(set(a.run.get("recipes", {})) | set(b.run.get("recipes", {}))):
        settings = a.run.get("recipes", {}).get(study, {}) | b.run.get("recipes", {}).get(study, {})
        names.extend(f"recipes.{study}.{key}" for key in sorted(settings))
    for name in names:
        va, vb = fact(a, name), fact(b, name)
        if va != vb:
            changes.append(f"{name.removeprefix('versions.')} {va or '-'} -> {vb or '-'}")
    ra, rb = _runtimes(a), _runtimes(b)
    if ra != rb:
        changes.append(f"runtime {'; '.join(ra) or '-'} -> {'; '.join(rb) or '-'}")
    return tuple(changes)


def _runtimes(run: Run) -> list[str]:
    return sorted({describe(r.runtime) for r in run.results if r.runtime})


def labels(runs: Sequence[Run], fields: Sequence[str]) -> list[str]:
    """A short column name per run: the first of the order's fields whose values differ
    between the runs that tell them apart (`transformers 4.40.2`, a commit's first 7
    characters, a date to the minute), numbered where even all of them leave two alike."""
    # One run (or runs alike in every field) is named by the order's first field.
    varying = [f for f in fields if len({fact(r, f) for r in runs}) > 1] or list(fields[:1])
    # As few of them as tell the runs apart: a release table is labelled by release alone.
    for n in range(1, len(varying) + 1):
        if len({tuple(fact(r, f) for f in varying[:n]) for r in runs}) == len(runs):
            varying = varying[:n]
            break
    names = []
    for run in runs:
        parts = []
        for name in varying:
            value = fact(run, name)
            if name == "commit":
                value = value[:7] if re.fullmatch(r"[0-9a-f]{40}", value) else value
            elif name in ("created", "date"):
                value = value[:16].replace("T", " ")
            else:
                value = f"{name.rsplit('.', 1)[-1]} {value}"
            parts.append(value)
        names.append(", ".join(parts) or "run")
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    if any(count > 1 for count in seen.values()):
        names = [f"#{i + 1} {name}" if seen[name] > 1 else name for i, name in enumerate(names)]
    return names


# --- the history ---------------------------------------------------------------------------


def test_data(results: Sequence[Result]) -> tuple:
    """What identifies a cell's test data in a run: the split's fingerprint where the records
    carry one, else (test sentences, gold entities) from the sentence counts."""
    fingerprints = {getattr(r, "test_fingerprint", None) for r in results}
    fingerprints.discard(None)
    if fingerprints:
        return ("fingerprint", *sorted(fingerprints))
    shapes = set()
    for r in results:
        if r.sentence_counts is None:
            shapes.add((r.n_test, None))
        else:
            from xner.results.intervals import decode_counts

            counts = decode_counts(r.sentence_counts)
            gold = int(counts[..., 0].sum() + counts[..., 2].sum())  # true positives + missed
            shapes.add((counts.shape[0], gold))
    return ("sentences and gold entities", *sorted(shapes, key=str))


def build_history(
    runs: Sequence[Run],
    order: Sequence[str] = DEFAULT_ORDER,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> History:
    """Order the runs, gather each cell's series and test every step between neighbours
    (consecutive runs that both have the cell)."""
    if not runs:
        raise HistoryError("a history needs at least one run")
    ordered = order_runs(runs, order)
    names = labels(ordered, order)
    ordered = [Run(r.source, r.run, r.results, n) for r, n in zip(ordered, names, strict=True)]
    measured = [aggregate(r.results) for r in ordered]
    by_cell: list[dict[Cell, list[Result]]] = []
    for run in ordered:
        grouped: dict[Cell, list[Result]] = {}
        for r in run.results:
            grouped.setdefault(Cell.of(r), []).append(r)
        by_cell.append(grouped)
    cells = sorted({cell for m in measured for cell in m}, key=sort_key)
    histories = []
    for cell in cells:
        series = [m.get(cell) for m in measured]
        present = [i for i, m in enumerate(series) if m is not None]
        steps = []
        for a, b in zip(present, present[1:], strict=False):
            steps.append(_step(cell, a, b, ordered, series, by_cell, resamples))
        histories.append(CellHistory(cell, series, steps))
    return History(ordered, tuple(order), histories, resamples)


def _step(cell, a, b, runs, series, by_cell, resamples) -> Step:
    ma, mb = series[a], series[b]
    changed = changed_facts(runs[a], runs[b])
    change = mb.mean - ma.mean
    if test_data(by_cell[a][cell]) != test_data(by_cell[b][cell]):
        return Step(a, b, change, None, "another test set", changed)
    if ma.counts is None or mb.counts is None:
        why = "several seeds" if max(ma.seeds, mb.seeds) > 1 else "no sentence counts"
        return Step(a, b, change, None, why, changed)
    difference = paired_bootstrap(ma.counts, mb.counts, resamples)
    return Step(a, b, change, difference, "", changed)


# --- files ---------------------------------------------------------------------------------


def cell_name(cell: Cell, with_study: bool = True) -> str:
    """`smoke zero-shot de->fr` (the study left out where the history has one)."""
    head = f"{cell.study} " if with_study else ""
    return f"{head}{cell.strategy} {cell.key}"


def figure_text(m: Measured | None) -> str:
    if m is None:
        return "-"
    text = f"{m.mean:.4f}"
    if m.low is not None:
        text += f" [{m.low:.4f}, {m.high:.4f}]"
    return text


def step_text(step: Step) -> str:
    """`↓ -0.0312*` for a significant step; `≠ test` where the test data differ."""
    if step.why == "another test set":
        return "≠ test set"
    if step.significant:
        return f"{'↓' if step.change < 0 else '↑'} {step.change:+.4f}*"
    return ""


def several_studies(history: History) -> bool:
    return len({c.cell.study for c in history.cells}) > 1


def history_md(history: History) -> str:
    """The runs, the cells x runs table (a significant step marked in the later run's
    column), and every flagged step with the run facts that changed."""
    several = several_studies(history)
    run_rows = [
        [r.label, fact(r, "transformers"), fact(r, "commit")[:12], fact(r, "created"),
         fact(r, "device"), r.source]
        for r in history.runs
    ]  # fmt: skip
    rows = []
    for c in history.cells:
        marks = {s.after: step_text(s) for s in c.steps}
        rows.append(
            [cell_name(c.cell, several)]
            + [
                " ".join(filter(None, [figure_text(m), marks.get(i, "")]))
                for i, m in enumerate(c.series)
            ]
        )
    text = "# xner history\n\n"
    text += (
        f"{len(history.runs)} run(s), ordered by {', '.join(history.order)}; each step between "
        f"neighbouring runs tested by a paired bootstrap ({history.resamples} resamples): "
        "* marks a significant one (the 95% interval of the difference excludes 0).\n\n"
    )
    text += "## Runs\n\n" + tabulate(
        run_rows, headers=["run", "transformers", "commit", "created", "device", "file"],
        tablefmt="github", disable_numparse=True,
    ) + "\n\n"  # fmt: skip
    text += "## F1 per cell and run\n\n" + tabulate(
        rows, headers=["cell", *(r.label for r in history.runs)], tablefmt="github",
        disable_numparse=True,
    ) + "\n\n"  # fmt: skip
    flagged = history.flagged()
    text += "## Significant steps\n\n"
    if not flagged:
        text += "None.\n"
    for cell, step in flagged:
        text += f"- {step_line(history, cell, step)}\n"
    untested = [(c.cell, s) for c in history.cells for s in c.steps if s.why]
    if untested:
        text += "\n## Steps not tested\n\n"
        for cell, step in untested:
            runs = history.runs
            text += (
                f"- {cell_name(cell, several)}: {runs[step.before].label} -> "
                f"{runs[step.after].label}: {step.why}\n"
            )
    return text


def step_line(history: History, cell: Cell, step: Step) -> str:
    """One flagged step in words: the cell, the two runs, the difference and what changed."""
    runs = history.runs
    changed = "; ".join(step.changed) or "no run fact differs"
    return (
        f"{cell_name(cell, several_studies(history))}: {runs[step.before].label} -> "
        f"{runs[step.after].label}: {step.difference} (changed: {changed})"
    )


def history_json(history: History) -> dict:
    def measured(m: Measured | None) -> dict | None:
        if m is None:
            return None
        return {"f1": m.mean, "low": m.low, "high": m.high, "seeds": m.seeds}

    def step(s: Step) -> dict:
        d = s.difference
        return {
            "from": s.before, "to": s.after, "change": s.change, "significant": s.significant,
            "low": d.low if d else None, "high": d.high if d else None,
            "p": d.p_value if d else None, "not_tested": s.why or None,
            "changed": list(s.changed),
        }  # fmt: skip

    return {
        "schema": 1,
        "order": list(history.order),
        "resamples": history.resamples,
        "runs": [
            {"label": r.label, "source": r.source}
            | {k: r.run.get(k) for k in ("created", "commit", "device", "versions")}
            for r in history.runs
        ],  # fmt: skip
        "cells": [
            {
                "study": c.cell.study,
                "strategy": c.cell.strategy,
                "config": c.cell.config,
                "lang": c.cell.lang,
                "series": [measured(m) for m in c.series],
                "steps": [step(s) for s in c.steps],
            }  # fmt: skip
            for c in history.cells
        ],
    }


def history_csv(history: History) -> str:
    """One row per cell and run: its F1 and interval, and the step into it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study", "strategy", "config", "lang", "run", "source", "f1", "f1_low",
                     "f1_high", "seeds", "step", "step_low", "step_high", "step_p",
                     "significant", "not_tested", "changed"])  # fmt: skip
    for c in history.cells:
        steps = {s.after: s for s in c.steps}
        for i, m in enumerate(c.series):
            if m is None:
                continue
            s = steps.get(i)
            d = s.difference if s else None
            writer.writerow([
                *c.cell, history.runs[i].label, history.runs[i].source, f"{m.mean:.6f}",
                "" if m.low is None else f"{m.low:.6f}", "" if m.high is None else f"{m.high:.6f}",
                m.seeds, "" if s is None else f"{s.change:+.6f}",
                f"{d.low:+.6f}" if d else "", f"{d.high:+.6f}" if d else "",
                f"{d.p_value:.4f}" if d else "", "" if s is None else str(s.significant).lower(),
                s.why if s else "", "; ".join(s.changed) if s else "",
            ])  # fmt: skip
    return out.getvalue()


def strategy_file(strategy: str) -> str:
    """`history-<strategy>.png`, the strategy's name made safe for a file name."""
    return f"history-{re.sub(r'[^A-Za-z0-9_.-]', '_', strategy)}.png"


def write_history(history: History, out: str | Path) -> list[Path]:
    """history.md, history.json, history.csv, history-<strategy>.png and history.html."""
    from xner.reporting.pages import history_html
    from xner.reporting.trends import plot_trends
    from xner.writer import write_atomic, write_json

    out = Path(out)
    md, data, table = history_md(history), history_json(history), history_csv(history)
    written = [
        write_atomic(out / "history.md", md),
        write_json(out / "history.json", data),
        write_atomic(out / "history.csv", table),
    ]
    pictures = plot_trends(history, out)
    written.extend(pictures)
    written.append(write_atomic(out / "history.html", history_html(history, pictures)))
    return written
