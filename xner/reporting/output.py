"""The one writer of a run's files, for `xner run`, the pytest plugin and `xner merge`:
results.json, results.csv, tables.md, few_shot.png, transfer.png and report.html (the page
that shows them all, xner.reporting.pages) in one folder.

results.json keeps the expected figures beside the results, so that tables.md can be rebuilt
from saved runs alone (`xner merge`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from xner.reporting.analysis import error_tables, factor_tables
from xner.reporting.errorplot import plot_errors
from xner.reporting.findings import findings_section, verdicts
from xner.reporting.plots import plot_few_shot, plot_transfer
from xner.reporting.tables import cell_of, entity_types, tables
from xner.results.predictions import FOLDER as PREDICTIONS_FOLDER
from xner.results.records import Result, save_results
from xner.spec.identity import CaseId, Cell
from xner.spec.runtime import describe

# The folder checks live with the writer; output re-exports them for its callers.
from xner.writer import FolderLock, check_writable, write_atomic  # noqa: F401

CSV_COLUMNS = [
    "strategy", "config", "train_langs", "train_size", "eval_lang", "seed", "f1", "f1_low",
    "f1_high", "precision", "recall", "PER", "ORG", "LOC", "n_test", "model", "data_source",
    "train_seconds", "eval_seconds", "device", "study", "strategy_version", "runtime",
]  # fmt: skip


def expected_cells(expected: Iterable[Mapping]) -> dict[Cell, float]:
    """Expected F1 per cell, from the expected records of a run."""
    return {Cell.of_record(e): e["f1"] for e in expected}


def results_csv(results: Iterable[Result]) -> str:
    out = io.StringIO()
    results = list(results)
    # A corpus's other entity types (MISC, ...) get a column each after PAN-X's three.
    extra = [t for t in entity_types(results) if t not in CSV_COLUMNS]
    at = CSV_COLUMNS.index("LOC") + 1
    columns = [*CSV_COLUMNS[:at], *extra, *CSV_COLUMNS[at:]]
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = r.to_dict() | r.per_type
        row["train_langs"] = "+".join(r.train_langs)
        row["runtime"] = describe(r.runtime) if r.runtime else ""
        if r.interval is not None:
            row["f1_low"], row["f1_high"] = r.interval["micro"]["low"], r.interval["micro"]["high"]
        writer.writerow(row)
    return out.getvalue()


def provenance(run: Mapping) -> str:
    """Where, when and with what a run was produced, as a paragraph of tables.md."""
    versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
    text = (
        f"Produced {run.get('created', '?')} on {run.get('device', '?')}, "
        f"commit {run.get('commit')}; {versions}.\n\n"
    )
    if run.get("merged_from"):
        text += f"Merged from {len(run['merged_from'])} runs: {', '.join(run['merged_from'])}.\n\n"
    return text


def incomplete_banner(run: Mapping) -> str:
    """The first paragraph of a partial merge's tables.md: what is missing
    (xner.reporting.coverage; `run.incomplete.line`)."""
    incomplete = run.get("incomplete")
    return f"**{incomplete['line']}**\n\n" if incomplete else ""


def runtimes(results: Iterable[Result]) -> str:
    """Which runtime produced the figures, per study, as a paragraph of tables.md."""
    seen = {(r.study or "-", describe(r.runtime)) for r in results if r.runtime}
    if not seen:
        return ""
    return "Runtime: " + "; ".join(f"{p}: {d}" for p, d in sorted(seen)) + ".\n\n"


def expected_sources(expected: Iterable[Mapping]) -> str:
    sources = sorted({e.get("source", "") for e in expected})
    return f"Expected figures from {', '.join(sources)}.\n\n" if any(sources) else ""


def tables_md(
    results: Sequence[Result],
    run: Mapping,
    expected: Sequence[Mapping] = (),
    baseline: Sequence[Result] | None = None,
    judged: Sequence = (),
) -> str:
    findings = findings_section(judged)
    return (
        "# xner results\n\n"
        + incomplete_banner(run)
        + provenance(run)
        + runtimes(results)
        + expected_sources(expected)
        + tables(results, expected_cells(expected), baseline, fmt="github")
        + error_tables(results)
        + factor_tables(results)
        + (f"\n{findings}" if findings else "")
    )


def write_run(
    out: str | Path,
    results: Sequence[Result],
    run: Mapping,
    expected: Sequence[Mapping] = (),
    baseline: Sequence[Result] | None = None,
    plots: bool = True,
    findings: Sequence = (),
    predictions_from: Sequence[str | Path] = (),
) -> list[Path]:
    """Write every file of a run into `out`, each atomically; returns the paths written.
    `findings` (xner.spec.claims.Finding) are judged from `results`: their verdicts go into
    results.json and tables.md.

    The records' predictions files are copied into `out/predictions/` from the first of
    `predictions_from` that has them (a cache folder, or another results folder); files there
    that no record names any more (their records were replaced) are removed.
    """
    out = Path(out)
    # Every text is built before the first file is written: a run that cannot be rendered
    # leaves the folder as it was, not half rewritten.
    judged = verdicts(findings, results)
    csv, md = results_csv(results), tables_md(results, run, expected, baseline, judged)
    sources = predictions_sources(out, results, predictions_from)
    written = [*keep_predictions(out, sources)]
    written += [
        save_results(
            out / "results.json",
            results,
            dict(run),
            list(expected),
            [v.to_dict() for v in judged],
        ),
        write_atomic(out / "results.csv", csv),
        write_atomic(out / "tables.md", md),
    ]
    if plots:
        pictures = [
            path
            for path in (
                plot_few_shot(results, out / "few_shot.png"),
                plot_transfer(results, out / "transfer.png"),
                plot_errors(results, out / "errors.png"),
            )
            if path is not None
        ]
        written.extend(pictures)
        written.append(write_report_page(out, results, pictures))
    prune_predictions(out, sources)
    return written


def write_report_page(out: Path, results: Sequence[Result], pictures: Sequence[Path]) -> Path:
    """report.html from what the folder's results.json holds (every key other parts of xner
    add to it is shown) and the run's pictures."""
    import json

    from xner.reporting.pages import report_html

    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return write_atomic(out / "report.html", report_html(payload, results, pictures))


def predictions_sources(
    out: Path, results: Iterable[Result], folders: Sequence[str | Path]
) -> dict[str, Path]:
    """Per predictions file the records name (`predictions/<name>`), where to copy it from:
    `out` itself if it is there already, else the first of `folders` (a cache folder holds
    `<name>`, a results folder `predictions/<name>`). A file in none is a ValueError naming it.
    """
    sources = {}
    for r in results:
        if r.predictions is None:
            continue
        name = Path(r.predictions).name
        candidates = [out / PREDICTIONS_FOLDER / name]
        for folder in map(Path, folders):
            candidates += [folder / PREDICTIONS_FOLDER / name, folder / name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ValueError(
                f"{r.predictions}: the predictions file of {CaseId.of(r)} is in none of "
                f"{', '.join(dict.fromkeys(str(c.parent) for c in candidates))}"
            )
        sources[name] = found
    return sources


def keep_predictions(out: Path, sources: Mapping[str, Path]) -> list[Path]:
    """Copy the predictions files into `out/predictions/`."""
    written = []
    for name, source in sorted(sources.items()):
        target = out / PREDICTIONS_FOLDER / name
        if source != target:
            write_atomic(target, source.read_bytes())
        written.append(target)
    return written


def prune_predictions(out: Path, keep: Iterable[str]) -> None:
    """Remove the predictions files of `out` that no record names any more (their records
    were replaced by this run's), once the new results.json names the ones kept."""
    folder, keep = out / PREDICTIONS_FOLDER, set(keep)
    if folder.is_dir():
        for stale in folder.glob("*.conll*"):
            if stale.name not in keep:
                stale.unlink()


def expected_record(result: Result, expected: Mapping) -> dict:
    """An expected-figure record of a run, for the cell of `result`."""
    cell = cell_of(result)
    return {"study": cell.study, "strategy": cell.strategy, "config": cell.config,
            "eval_lang": cell.lang} | dict(expected)  # fmt: skip
