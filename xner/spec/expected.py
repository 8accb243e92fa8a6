"""Expected figures that benchmark cases are checked against, read from TOML files kept beside
the benchmarks (benchmarks/expected/<study>.toml) or beside a study file
(<study>.expected.toml). Plain data: no torch."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from xner.errors import XnerError
from xner.spec.identity import CaseId

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ExpectedError(XnerError, LookupError):
    """An expected-figures file that cannot be used for a case: unreadable, stale or silent."""


@dataclass(frozen=True)
class Expectation:
    """An expected F1 and how far a measurement may stray from it.

    One-sided (the report's figures): F1 >= f1 - tolerance passes, and F1 above
    f1 + flag_above is flagged as suspect. Two-sided (deterministic smoke figures): F1 must lie
    within f1 +- tolerance, so any change that moves a figure is caught.
    """

    f1: float
    tolerance: float
    two_sided: bool = False
    flag_above: float | None = None
    why: str = ""
    source: str = ""  # the file, and the [[environment]] variant if one applied

    def failure(self, measured: float) -> str | None:
        """Why `measured` fails this expectation, or None when it passes."""
        if measured < self.f1 - self.tolerance:
            return (
                f"F1 {measured:.4f} is below the expected {self.f1:.4f} - {self.tolerance:.4f} "
                f"(by {self.f1 - self.tolerance - measured:.4f})"
            )
        if self.two_sided and measured > self.f1 + self.tolerance:
            return (
                f"F1 {measured:.4f} moved above the expected {self.f1:.4f} + "
                f"{self.tolerance:.4f}: if the change is intended, re-measure and bump the "
                "strategy's version"
            )
        return None

    def suspect(self, measured: float) -> bool:
        """Far above the expected figure: passes, but deserves a look."""
        return self.flag_above is not None and measured > self.f1 + self.flag_above


@dataclass(frozen=True)
class Expected:
    """The expected figures of one study: per strategy a version and per case a figure."""

    path: Path
    versions: dict[str, int]
    cells: dict[tuple[str, str], Expectation]  # (strategy, case key) -> expectation
    environment: str = ""

    def for_case(self, case: CaseId, version: int) -> Expectation:
        """The expectation of `case`, checking that it was measured for `version`, the
        version of its strategy in the code."""
        strategy = case.strategy
        measured = self.versions.get(strategy)
        if measured != version:
            raise ExpectedError(
                f"{self.path}: figures of {strategy!r} are for version {measured}, the code is "
                f"version {version}: re-measure them"
            )
        try:
            return self.cells[(strategy, case.cell.key)]
        except KeyError:
            raise ExpectedError(
                f"{self.path}: no expected figure for {strategy} {case.cell.key}"
            ) from None


def load_expected(path: str | Path, environment: dict[str, str] | None = None) -> Expected:
    """Read an expected-values file.

    Layout: a table per strategy with `version`, optional `tolerance`, `two_sided` and
    `flag_above` defaults, and `cells` mapping "<config>-><lang>" to a number or to a table
    {f1, tolerance, why}. Optional `[[environment]]` tables (`name`, `match`: package ->
    version prefix, and their own strategy tables) replace the figures where the installed
    versions match, since releases may tokenize or initialise differently.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ExpectedError(f"{path}: {err}") from None
    _check_layout(path, data)
    environment_name = ""
    if environment is not None:
        for variant in data.get("environment", []):
            match = variant.get("match", {})
            if all(environment.get(pkg, "").startswith(str(v)) for pkg, v in match.items()):
                environment_name = variant["name"]
                data = {**data, **{k: v for k, v in variant.items() if isinstance(v, dict)}}
                break
    versions, cells = {}, {}
    for strategy, table in data.items():
        if strategy == "environment" or not isinstance(table, dict) or "cells" not in table:
            continue
        versions[strategy] = int(table["version"])
        for key, cell in table["cells"].items():
            cell = cell if isinstance(cell, dict) else {"f1": cell}
            try:
                cells[(strategy, key)] = Expectation(
                    f1=float(cell["f1"]),
                    tolerance=float(cell.get("tolerance", table.get("tolerance", 0.0))),
                    two_sided=bool(table.get("two_sided", False)),
                    flag_above=table.get("flag_above"),
                    why=cell.get("why", ""),
                    source=path.name + (f" [{environment_name}]" if environment_name else ""),
                )
            except (KeyError, TypeError, ValueError) as err:
                raise ExpectedError(f"{path}: [{strategy}] cell {key!r}: {err}") from None
    return Expected(path, versions, cells, environment_name)


def _check_layout(path: Path, data: dict) -> None:
    """Every strategy table of the file (and of each [[environment]]) as load_expected reads
    it: an ExpectedError naming the file and the key, and what it should hold."""

    def fail(key: str, problem: str) -> ExpectedError:
        return ExpectedError(f"{path}: {key}: {problem}")

    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value

    def strategies(table: dict, prefix: str) -> None:
        for strategy, spec in table.items():
            if not isinstance(spec, dict) or "cells" not in spec:
                continue
            where = f"{prefix}{strategy}"
            version = spec.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise fail(f"{where}.version", f"a whole number of at least 1, got {version!r}")
            for key in ("two_sided",):
                if not isinstance(spec.get(key, False), bool):
                    raise fail(f"{where}.{key}", f"true or false, got {spec[key]!r}")
            for key in ("tolerance", "flag_above"):
                if key in spec and not (number(spec[key]) and 0 <= spec[key] < 1):
                    raise fail(f"{where}.{key}", f"a number from 0 to 1, got {spec[key]!r}")
            if not isinstance(spec["cells"], dict):
                raise fail(f"{where}.cells", 'a table of "<config>-><lang>" = F1')
            for cell, value in spec["cells"].items():
                cell_where = f'{where}.cells."{cell}"'
                value = value if isinstance(value, dict) else {"f1": value}
                if not (number(value.get("f1")) and 0 <= value["f1"] <= 1):
                    raise fail(cell_where, f"an F1 from 0 to 1, got {value.get('f1')!r}")
                tolerance = value.get("tolerance", 0.0)
                if not (number(tolerance) and 0 <= tolerance < 1):
                    raise fail(
                        cell_where + ".tolerance", f"a number from 0 to 1, got {tolerance!r}"
                    )
                if not isinstance(value.get("why", ""), str):
                    raise fail(cell_where + ".why", f"a string, got {value['why']!r}")

    strategies(data, "")
    variants = data.get("environment", [])
    if not isinstance(variants, list):
        raise fail("environment", "[[environment]] tables, each with `name` and `match`")
    for i, variant in enumerate(variants):
        where = f"environment[{i}]"
        if not isinstance(variant, dict) or not isinstance(variant.get("name"), str):
            raise fail(where + ".name", "each [[environment]] needs a `name` string")
        if not isinstance(variant.get("match"), dict):
            raise fail(where + ".match", "a table of package = version prefix")
        strategies(variant, where + ".")


def expected_file(study, benchmarks_expected: str | Path) -> Path | None:
    """Where `study`'s expected figures are: `<file>.expected.toml` beside a study file, else
    `<name>.toml` in the benchmarks' folder; None when it has none."""
    candidates = [Path(benchmarks_expected) / f"{study.name}.toml"]
    if study.ref != study.name:  # a study file: its own figures come first
        candidates.insert(0, Path(study.source).with_suffix(".expected.toml"))
    return next((path for path in candidates if path.is_file()), None)
