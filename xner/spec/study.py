"""Studies as data: a TOML file names the model, the data, the corpus fractions, the recipe,
the few-shot sizes, a version and the strategies; one engine (xner.execution.runner) runs any
of them.

The built-in studies are files in xner/spec/studies/ (`report`, REPORT.md's study, and `smoke`, the
same on a CPU). Everything here is checked when the file loads, before anything trains: an
unknown key, language or strategy, or a size larger than the corpus, is a StudyError naming
the file and the key. A language the study's `[fractions]` (or its base study's) do not name
keeps its splits whole, as in a study without fractions. Plain data: no torch, no datasets.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from xner.spec.claims import Finding, parse_findings
from xner.spec.corpus import CorpusSpec, parse_corpus, parse_entity_types, parse_label_map
from xner.spec.languages import SYNTHETIC_SIZES, check_lang, source_languages
from xner.spec.recipe import RECIPE_KEYS, Recipe, SettingError
from xner.spec.runtime import Runtime
from xner.spec.strategies import Strategy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STUDY_DIR = Path(__file__).parent / "studies"

_STUDY_KEYS = {
    "base", "description", "model", "data", "languages", "few_shot_sizes", "version", "mark",
    "fractions", "recipe", "runtime", "strategies", "corpus", "entity_types", "labels",
    "findings",
}  # fmt: skip
_STRATEGY_KEYS = {"description", "train", "eval", "sizes", "few_shot", "reference", "version"}
_RUNTIME_KEYS = {f.name for f in fields(Runtime)}


class StudyError(ValueError):
    """A study file that cannot be run; the message names the file and the key."""


@dataclass(frozen=True)
class Study:
    """One study: what to train, on what, how, and what to evaluate."""

    name: str
    model: str
    data: str
    strategies: Mapping[str, Strategy]
    languages: tuple[str, ...]  # what "all" means in the file: listed, or every one the data has
    recipe: Recipe = field(default_factory=Recipe)
    fractions: Mapping[str, float] | None = None
    few_shot_sizes: tuple[int, ...] = ()
    runtime: Runtime = field(default_factory=Runtime)
    version: int = 1
    mark: str | None = None  # the pytest marker that selects its cases (gpu, smoke)
    description: str = ""
    source: str = ""  # the file it was read from: how worker processes find it again
    # Any NER corpus (xner.spec.corpus, read by xner.data.corpus): per-language files or
    # hub-shaped datasets, the declared entity types (else the data's), and how the corpora's
    # types meet.
    corpus: Mapping[str, CorpusSpec] | None = None
    entity_types: tuple[str, ...] | None = None
    label_map: Mapping[str, str] = field(default_factory=dict)
    # What the study's tables should show, as claims over its cells (xner.spec.claims), each
    # judged by xner.results.findings and run as a benchmark case test_finding[<study>-<name>].
    findings: tuple[Finding, ...] = ()

    @property
    def ref(self) -> str:
        """The name of a built-in study, else the path of its file."""
        return self.name if Path(self.source).parent == STUDY_DIR else self.source

    def langs(self) -> list[str]:
        """Every language the study trains or evaluates on, in the study's order."""
        seen = dict.fromkeys(
            lang
            for s in self.strategies.values()
            for lang in (*[x for t in s.train_sets for x in t], *s.eval_langs)
        )
        return list(seen)

    def select(self, names: list[str] | None) -> Study:
        """The same study with only the named strategies (all of them for None or [])."""
        if not names:
            return self
        unknown = [n for n in names if n not in self.strategies]
        if unknown:
            raise StudyError(
                f"{self.source or self.name}: no strategy {', '.join(map(repr, unknown))}; "
                f"it has: {', '.join(self.strategies)}"
            )
        # A finding over a strategy left out is left out with it.
        kept = [f for f in self.findings if all(cell[0] in names for cell in f.cells)]
        return replace(
            self, strategies={n: self.strategies[n] for n in names}, findings=tuple(kept)
        )


def built_in_studies() -> list[str]:
    """Names of the studies shipped with xner: the files in xner/spec/studies/."""
    return sorted(p.stem for p in STUDY_DIR.glob("*.toml"))


def load_study(name_or_path: str | Path, data: str | None = None) -> Study:
    """A built-in study by name, or a study file by path; `data` replaces the file's source
    (languages are checked against the source that will be used)."""
    text = str(name_or_path)
    path = STUDY_DIR / f"{text}.toml" if text in built_in_studies() else Path(text)
    if not path.is_file():
        raise StudyError(
            f"no study {text!r}: not a file, and the built-in studies are "
            f"{', '.join(built_in_studies())}"
        )
    return parse_study(_read_table(path), path, data)


def _read_table(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A study file's table with its `base` study's keys beneath its own: recipe, runtime
    and fractions merge key by key; anything else, strategies included, replaces."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise StudyError(f"{path}: {err}") from None
    if "base" not in table:
        return table
    base = table.pop("base")
    # A study's findings are its own file's: a study on a base changes its strategies, and the
    # base's claims are about the base's cells.
    if not isinstance(base, str):
        raise StudyError(f"{path}: base: a built-in study's name or a study file, got {base!r}")
    base_path = STUDY_DIR / f"{base}.toml" if base in built_in_studies() else path.parent / base
    if not base_path.is_file():
        raise StudyError(
            f"{path}: base: no study {base!r} (built-in: {', '.join(built_in_studies())})"
        )
    if base_path.resolve() in seen:
        raise StudyError(f"{path}: base: {base!r} leads back to itself")
    merged = _read_table(base_path, (*seen, path.resolve()))
    merged.pop("findings", None)
    for key, value in table.items():
        if key in ("recipe", "runtime", "fractions") and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def matrix_file(path: str | Path, base: str, train: list[str], evals: list[str] | str) -> Path:
    """Write the transfer matrix (one training per source language, every target evaluated)
    as a study file on `base`, so that the run keeps a record of what it ran."""
    base_ref = base if base in built_in_studies() else str(Path(base).resolve())
    targets = '"all"' if evals == "all" else "[" + ", ".join(f'"{x}"' for x in evals) + "]"
    text = (
        "# Written by `xner matrix`: run it again with `xner run` on this file.\n"
        f'base = "{base_ref}"\n'
        f"languages = {_toml_list(train, evals)}\n\n"
        "[strategies.matrix]\n"
        'description = "one training per source language, every target evaluated"\n'
        "train = [" + ", ".join(f'"{x}"' for x in train) + "]\n"
        f"eval = {targets}\n"
    )
    from xner.writer import write_atomic

    return write_atomic(Path(path), text)


def check_matrix(
    base: str, train: list[str], evals: list[str] | str, data: str | None = None
) -> None:
    """The languages of `xner matrix --train ... --eval ...` on study `base`, checked before
    its study file is written: a StudyError naming the flag, the language and what the data
    source has."""
    try:
        study = load_study(base, data)
    except StudyError as err:
        raise StudyError(f"--study: {err}") from None
    for flag, langs in (("--train", train), ("--eval", [] if evals == "all" else evals)):
        if evals != "all" or flag == "--train":
            if not langs or "" in langs:
                raise StudyError(f"{flag}: comma-separated language codes, e.g. de,fr")
            repeated = sorted({x for x in langs if langs.count(x) > 1})
            if repeated:
                raise StudyError(f"{flag}: each language once, got {', '.join(repeated)} twice")
        for lang in langs:
            try:
                check_lang(lang, study.data)
            except ValueError as err:
                raise StudyError(f"{flag}: {err}") from None


def _toml_list(train: list[str], evals: list[str] | str) -> str:
    if evals == "all":
        return '"all"'  # every language of the data source, whichever it is at run time
    return "[" + ", ".join(f'"{x}"' for x in dict.fromkeys([*train, *evals])) + "]"


def parse_study(table: dict, path: Path, data: str | None = None) -> Study:
    """A Study from a study file's TOML table; every error names `path` and the key."""

    def fail(key: str, problem: str) -> StudyError:
        return StudyError(f"{path}: {key}: {problem}")

    _no_unknown(table, _STUDY_KEYS, "", fail)
    # `[corpus.<lang>]` tables are the data unless --data replaces them ("corpus" names them).
    corpus = (
        None if data or "corpus" not in table else parse_corpus(table["corpus"], path.parent, fail)
    )
    if corpus is not None:
        table = {"data": "corpus", "languages": list(corpus), **table}
    for key in ("model", "data", "strategies"):
        if key not in table:
            raise fail(key, "missing")
    model = _typed(table, "model", str, fail)
    source = str(data or _typed(table, "data", str, fail))
    if source.startswith("hub:") and not source[len("hub:") :].strip():
        raise fail("data", 'hub:NAME names a hub-shaped dataset, e.g. "hub:unimelb-nlp/wikiann"')
    languages_spec = table.get("languages", "all")
    if languages_spec == "all" and corpus is not None:
        languages_spec = list(corpus)
    if languages_spec == "all" and source.startswith("hub:"):
        raise fail("languages", f"list them: which configurations {source!r} has is not known "
                   "offline (each language is the configuration of its name)")  # fmt: skip
    if languages_spec == "all":
        try:
            languages_spec = list(source_languages(source))
        except FileNotFoundError as err:
            raise fail("data", str(err)) from None
        if not languages_spec:
            raise fail("languages", f"{source!r} holds no PAN-X files (train-<lang>.tsv)")
    languages = tuple(_langs(languages_spec, "languages", source, fail))
    version = _typed(table, "version", int, fail, default=1)
    if version < 1:
        raise fail("version", f"a whole number of at least 1, got {version}")
    sizes = tuple(_sizes(table.get("few_shot_sizes", []), "few_shot_sizes", fail))
    fractions = _fractions(table.get("fractions"), source, fail)
    recipe = _section(table, "recipe", RECIPE_KEYS, Recipe, fail)
    runtime = _section(table, "runtime", _RUNTIME_KEYS, Runtime, fail)
    strategies_table = _typed(table, "strategies", dict, fail)
    if not strategies_table:
        raise fail("strategies", "a study needs at least one strategy")
    strategies = {
        name: _strategy(name, spec, languages, source, sizes, version, fail)
        for name, spec in strategies_table.items()
    }
    for name, strategy in strategies.items():
        if strategy.reference is not None and strategy.reference not in strategies:
            raise fail(
                f"strategies.{name}.reference",
                f"no strategy {strategy.reference!r}; the study has: {', '.join(strategies)}",
            )
        _check_sizes(name, strategy, source, fractions, fail)
        _check_corpus(name, strategy, corpus, source, fail)
    cells = [
        (name, config.label, lang)
        for name, strategy in strategies.items()
        for config in strategy.configs()
        for lang in config.eval_langs
    ]
    findings = parse_findings(table.get("findings", []), path.stem, cells, fail)
    return Study(
        name=path.stem,
        model=model,
        data=source,
        strategies=strategies,
        languages=languages,
        recipe=recipe,
        fractions=fractions,
        few_shot_sizes=sizes,
        runtime=runtime,
        version=version,
        mark=_mark(table, fail),
        description=_typed(table, "description", str, fail, default=""),
        source=str(path),
        corpus=corpus,
        entity_types=(
            parse_entity_types(table["entity_types"], fail) if "entity_types" in table else None
        ),
        label_map=parse_label_map(table["labels"], fail) if "labels" in table else {},
        findings=findings,
    )


def _check_corpus(name, strategy, corpus, source, fail) -> None:
    """With `[corpus.<lang>]` tables and no other `data`, every language comes from one; a
    trained one has train and validation splits (the best epoch is chosen on validation)."""
    if corpus is None:
        return
    for key, langs in (("eval", strategy.eval_langs), ("train", sum(strategy.train_sets, ()))):
        for lang in langs:
            if lang not in corpus and source == "corpus":
                raise fail(f"strategies.{name}.{key}", f"no [corpus.{lang}] for {lang!r}")
    for train in strategy.train_sets:
        for lang in train:
            if lang not in corpus:
                continue
            spec = corpus[lang]
            missing = [
                s for s in ("train", "validation") if spec.data is None and s not in spec.paths
            ]
            if missing:
                raise fail(
                    f"corpus.{lang}",
                    f"no {' and no '.join(missing)} file, but strategies.{name} trains on {lang}",
                )


def _strategy(name, spec, languages, source, few_shot_sizes, version, fail) -> Strategy:
    where = f"strategies.{name}"
    if not isinstance(spec, dict):
        raise fail(where, "must be a table")
    _no_unknown(spec, _STRATEGY_KEYS, where + ".", fail)
    if "train" not in spec or "eval" not in spec:
        raise fail(where, 'needs `train` (training sets) and `eval` (languages or "all")')
    train_spec = spec["train"]
    if not isinstance(train_spec, list) or not train_spec:
        raise fail(f"{where}.train", 'a list of training sets, e.g. ["de", "de+fr", "all"]')
    train_sets, train_names = [], []
    for item in train_spec:
        if not isinstance(item, str):
            raise fail(f"{where}.train", f'{item!r} is not a training set like "de+fr"')
        if item == "all":
            train_sets.append(languages)
            train_names.append("all")
        else:
            langs = _langs(item.split("+"), f"{where}.train", source, fail)
            train_sets.append(tuple(langs))
            train_names.append("")
    _once(train_sets, f"{where}.train", "training set", fail, lambda t: "+".join(t))
    evals = spec["eval"]
    eval_langs = languages if evals == "all" else _langs(evals, f"{where}.eval", source, fail)
    if not isinstance(spec.get("few_shot", False), bool):
        raise fail(f"{where}.few_shot", f"true or false, got {spec['few_shot']!r}")
    if spec.get("few_shot") and "sizes" in spec:
        raise fail(where, "give `sizes` or `few_shot = true`, not both")
    if spec.get("few_shot"):
        if not few_shot_sizes:
            raise fail(f"{where}.few_shot", "the study has no `few_shot_sizes`")
        sizes: tuple = few_shot_sizes
    elif "sizes" in spec:
        sizes = tuple(_sizes(spec["sizes"], f"{where}.sizes", fail))
        if not sizes:
            raise fail(
                f"{where}.sizes", "at least one size (or leave `sizes` out: the whole split)"
            )
    else:
        sizes = (None,)
    return Strategy(
        name,
        tuple(train_sets),
        tuple(eval_langs),
        sizes=sizes,
        version=_typed(spec, "version", int, fail, default=version, where=where + "."),
        description=_typed(spec, "description", str, fail, default="", where=where + "."),
        reference=_typed(spec, "reference", str, fail, default=None, where=where + "."),
        train_names=tuple(train_names),
    )


def _check_sizes(name, strategy, source, fractions, fail) -> None:
    """A few-shot size larger than the training corpus could only train on fewer sentences
    than it says; refuse it now where the corpus size is known without loading data (for
    other sources xner.execution.runner.preflight checks it against the loaded data)."""
    if source != "synthetic":
        return
    for train in strategy.train_sets:
        rows = sum(int(SYNTHETIC_SIZES["train"] * (fractions or {}).get(x, 1.0)) for x in train)
        too_big = [n for n in strategy.sizes if n is not None and n > rows]
        if too_big:
            raise fail(
                f"strategies.{name}.sizes",
                f"{too_big[0]} is larger than the {rows} training sentences of "
                f"{'+'.join(train)} in {source!r} data",
            )


def _langs(value, key, source, fail) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise fail(key, f'a non-empty list of language codes or "all", got {value!r}')
    try:
        langs = [check_lang(lang, source) for lang in value]
    except ValueError as err:
        raise fail(key, str(err)) from None
    _once(langs, key, "language", fail)
    return langs


def _once(items, key, what, fail, show=str) -> None:
    """Each item once: `de+de` would train on German twice, `[50, 50]` one size twice."""
    repeated = [show(x) for x in dict.fromkeys(items) if items.count(x) > 1]
    if repeated:
        raise fail(key, f"each {what} once, got {', '.join(repeated)} more than once")


def _sizes(value, key, fail) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value
    ):
        raise fail(key, f"a list of positive sentence counts, got {value!r}")
    _once(value, key, "size", fail)
    return sorted(value)


def _fractions(value, source, fail) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail("fractions", "a table of language = fraction")
    for lang, fraction in value.items():
        if not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise fail(f"fractions.{lang}", f"a fraction in (0, 1], got {fraction!r}")
        if source == "synthetic":  # its sizes are known now; other sources: at preflight
            empty = [s for s, n in SYNTHETIC_SIZES.items() if int(n * fraction) < 1]
            if empty:
                least = 1 / min(SYNTHETIC_SIZES[s] for s in empty)
                raise fail(
                    f"fractions.{lang}",
                    f"{fraction!r} keeps no sentence of the {', '.join(empty)} "
                    f"split{'s' if len(empty) > 1 else ''} of "
                    f"{source!r} data; at least {least:g}",
                )
    return {lang: float(f) for lang, f in value.items()}


def _section(table, key, allowed, cls, fail):
    section = _typed(table, key, dict, fail, default={})
    _no_unknown(section, allowed, key + ".", fail)
    defaults = cls()
    for name, value in section.items():
        default = getattr(defaults, name)
        kind = (int, float) if isinstance(default, float) else type(default)
        if default is not None and (
            not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
        ):
            raise fail(f"{key}.{name}", f"must be like {default!r}, got {value!r}")
    try:
        return cls(**section)
    except SettingError as err:
        raise fail(f"{key}.{err.key}", err.problem) from None
    except TypeError as err:
        raise fail(key, str(err)) from None


def _mark(table, fail) -> str | None:
    mark = _typed(table, "mark", str, fail, default=None)
    if mark is not None and not mark.isidentifier():
        raise fail("mark", f"a pytest marker name (letters, digits, _), got {mark!r}")
    return mark


# Keys that older xner read, by their new name: a one-line error says which.
_RENAMED = {"runtime.precision": "runtime.dtype"}


def _no_unknown(table, allowed, prefix, fail) -> None:
    for key in table:
        if prefix + key in _RENAMED:
            raise fail(prefix + key, f"renamed to {_RENAMED[prefix + key]} (same values)")
        if key not in allowed:
            raise fail(prefix + key, f"unknown key; known: {', '.join(sorted(allowed))}")


def _typed(table, key, kind, fail, default=..., where=""):
    if key not in table:
        if default is ...:
            raise fail(where + key, "missing")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail(where + key, f"must be {kind.__name__}, got {value!r}")
    return value
