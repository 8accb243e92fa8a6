"""Result records and the results file: `{"schema": 2, "run": {...}, "results": [...]}`."""

from __future__ import annotations

import dataclasses
import datetime
import json
import platform
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xner.errors import XnerError
from xner.writer import write_json

# Schema 2 renamed a record's `profile` to `study` and the runtime's `precision` to `dtype`;
# load_results still reads schema 1 files (xner.results.records._upgrade).
SCHEMA = 2


class ResultsFileError(XnerError, ValueError):
    """A results.json (or one of its records) that xner cannot read; the message says where."""


@dataclass(frozen=True)
class Result:
    """One (training configuration, evaluation language, seed) outcome.

    Field names are a public contract: users' scripts read them from results.json.
    """

    strategy: str
    train_langs: list[str]
    train_size: int  # sentences trained on
    eval_lang: str
    seed: int
    f1: float
    precision: float
    recall: float
    per_type: dict[str, float]
    n_test: int  # test sentences scored
    model: str
    data_source: str
    train_seconds: float
    eval_seconds: float
    versions: dict[str, str]
    device: str
    config: str = ""  # the training configuration's label: de, fr:1000, de+fr, all
    study: str = ""  # the study's name (report, smoke, a study file's stem)
    strategy_version: int = 1
    runtime: dict = field(default_factory=dict)  # how it executed: xner.training.device.resolve()
    train_steps: int = 0  # optimizer steps taken
    seconds_per_step: float = 0.0  # after the first step (see xner.training.train.StepClock)
    size: int | None = None  # the few-shot size trained at (None: the whole split)
    reference: str | None = None  # the strategy a curve is drawn against (few-shot: zero-shot)
    # Bootstrap intervals of F1 (xner.results.intervals.Intervals.to_dict: micro and per type)
    # and the per-sentence counts they and paired comparisons resample
    # (xner.results.intervals.encode_counts).
    interval: dict | None = None
    sentence_counts: str | None = None
    # The head's entity types in the order of sentence_counts' columns; None: PAN-X's three
    # (left out of the record then, so PAN-X records keep their exact fields).
    entity_types: list[str] | None = None
    # The cell's test predictions, `predictions/<file>` inside the results folder
    # (xner.results.predictions); the hash of the test split's words and gold tags, which
    # `xner diff` checks; the error analysis (xner.results.errors.error_analysis) and the
    # factors of the evaluation language (xner.data.factors: segmentation, truncation, gold
    # entity types). None in records written before xner kept them.
    predictions: str | None = None
    test_fingerprint: str | None = None
    errors: dict | None = None
    factors: dict | None = None

    def to_dict(self) -> dict:
        record = dataclasses.asdict(self)
        if record["entity_types"] is None:
            del record["entity_types"]
        return record

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ResultsFileError(f"result record has unknown fields {sorted(unknown)}")
        return cls(**data)


def versions() -> dict[str, str]:
    """Versions of the libraries that can move a figure."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("xner", "torch", "transformers", "datasets", "tokenizers", "seqeval"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_facts() -> dict:
    """Facts about the run as a whole: when, where, which commit. The device is
    xner.training.device.device_name, which the fronts add: it asks torch."""
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # The git commit where there is a checkout, else the installed xner's version.
        "commit": _git_commit() or f"xner {versions()['xner']}",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions(),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@dataclass
class ResultsFile:
    """What a results.json holds."""

    results: list[Result]
    run: dict = field(default_factory=dict)
    expected: list[dict] = field(default_factory=list)  # expected figures the run met
    # The verdicts of the studies' findings (xner.results.findings.Verdict.to_dict): with its
    # claim and cells, so that `xner report` and `xner merge` judge them again.
    findings: list[dict] = field(default_factory=list)


def save_results(
    path: str | Path,
    results: Iterable[Result],
    run: dict | None = None,
    expected: list[dict] | None = None,
    findings: list[dict] | None = None,
) -> Path:
    """Write results (and the expected figures they were checked against, and the verdicts of
    the findings) as JSON, atomically."""
    payload = {
        "schema": SCHEMA,
        "run": run if run is not None else run_facts(),
        "results": [r.to_dict() for r in results],
    }
    if expected:
        payload["expected"] = expected
    if findings:
        payload["findings"] = findings
    return write_json(path, payload)


def load_results(path: str | Path) -> ResultsFile:
    """Read a results.json, checked whole: its schema, `run`, every record's every field
    (type, and that its interval and sentence counts read) and the expected records. Any
    problem is a ValueError naming the file, the record and the field, and what was
    expected, before a caller builds or writes anything from it."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ResultsFileError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such file (a results.json written by xner)") from None
    except UnicodeDecodeError as err:
        raise ResultsFileError(f"{path}: not UTF-8 text ({err.reason})") from None
    if not isinstance(payload, dict) or payload.get("schema") not in READS:
        found = payload.get("schema") if isinstance(payload, dict) else type(payload).__name__
        raise ResultsFileError(
            f"{path}: results schema {found!r}, this xner reads schema "
            f"{' or '.join(map(str, READS))}"
        )
    payload = _upgrade(payload)
    run, records = payload.get("run", {}), payload.get("results")
    expected = payload.get("expected", [])
    if not isinstance(run, dict):
        raise ResultsFileError(f"{path}: run: must be an object, got {_kind(run)}")
    for key in ("versions", "recipes"):
        if not isinstance(run.get(key, {}), dict):
            raise ResultsFileError(f"{path}: run.{key}: must be an object, got {_kind(run[key])}")
    if not isinstance(records, list) or not records:
        what = "an empty list" if records == [] else _kind(records)
        raise ResultsFileError(f"{path}: results: a non-empty list of result records, got {what}")
    results = [_record(path, i, record) for i, record in enumerate(records)]
    _check_objects(path, "expected", expected, _EXPECTED_FIELDS)
    findings = payload.get("findings", [])
    _check_objects(path, "findings", findings, _FINDING_FIELDS)
    for i, f in enumerate(findings):
        if not isinstance(f.get("cells"), list) or not all(isinstance(c, str) for c in f["cells"]):
            raise ResultsFileError(
                f"{path}: findings[{i}].cells: must be a list of cells, got {_kind(f.get('cells'))}"
            )
    studies = {r.study for r in results}
    if len(studies) == 1:
        # Files from before expected records named their study: theirs is the results' one.
        (study,) = studies
        expected = [{"study": study} | e if "study" not in e else e for e in expected]
    return ResultsFile(results=results, run=run, expected=expected, findings=findings)


READS = (1, SCHEMA)  # the schemas load_results reads


def _upgrade(payload: dict) -> dict:
    """A schema 1 payload in schema 2's names: each record's `profile` is its `study`, its
    runtime's `precision` its `dtype`. A record of a non-list `results` is left for the checks
    to name."""
    if payload["schema"] == SCHEMA or not isinstance(payload.get("results"), list):
        return payload
    records = []
    for record in payload["results"]:
        if isinstance(record, dict):
            record = {("study" if k == "profile" else k): v for k, v in record.items()}
            runtime = record.get("runtime")
            if isinstance(runtime, dict):
                record["runtime"] = {
                    ("dtype" if k == "precision" else k): v for k, v in runtime.items()
                }
        records.append(record)
    return payload | {"schema": SCHEMA, "results": records}


_NUM = (int, float)
# What each field of a record holds (JSON's types): str, a number, int, an object, None...
_FIELD_KINDS = {
    "strategy": str, "train_langs": list, "train_size": int, "eval_lang": str, "seed": int,
    "f1": _NUM, "precision": _NUM, "recall": _NUM, "per_type": dict, "n_test": int,
    "model": str, "data_source": str, "train_seconds": _NUM, "eval_seconds": _NUM,
    "versions": dict, "device": str, "config": str, "study": str, "strategy_version": int,
    "runtime": dict, "train_steps": int, "seconds_per_step": _NUM, "size": (int, type(None)),
    "reference": (str, type(None)), "interval": (dict, type(None)),
    "sentence_counts": (str, type(None)), "entity_types": (list, type(None)),
    "predictions": (str, type(None)), "test_fingerprint": (str, type(None)),
    "errors": (dict, type(None)), "factors": (dict, type(None)),
}  # fmt: skip


def _record(path: Path, index: int, record) -> Result:
    where = f"{path}: results[{index}]"
    if not isinstance(record, dict):
        raise ResultsFileError(f"{where}: must be an object (a result record), got {_kind(record)}")
    for f in dataclasses.fields(Result):
        if f.name not in record:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ResultsFileError(f"{where}: no field {f.name!r}")
            continue
        value, kinds = record[f.name], _FIELD_KINDS[f.name]
        if not _is(value, kinds):
            raise ResultsFileError(f"{where}.{f.name}: must be {_name(kinds)}, got {_kind(value)}")
    for name, items, kinds in (
        ("train_langs", enumerate(record["train_langs"]), str),
        ("per_type", record["per_type"].items(), _NUM),
        ("versions", record["versions"].items(), str),
    ):
        for key, value in items:
            if not _is(value, kinds):
                raise ResultsFileError(
                    f"{where}.{name}[{key!r}]: must be {_name(kinds)}, got {_kind(value)}"
                )
    if record.get("interval") is not None:
        _check_interval(f"{where}.interval", record["interval"])
    if record.get("sentence_counts") is not None:
        from xner.results.intervals import decode_counts

        try:
            decode_counts(record["sentence_counts"])
        except ValueError as err:
            raise ResultsFileError(f"{where}.sentence_counts: {err}") from None
    try:
        return Result.from_dict(record)
    except (TypeError, ValueError) as err:
        raise ResultsFileError(f"{where}: {err}") from None


def _check_interval(where: str, interval: dict) -> None:
    """`{"micro": {"estimate", "low", "high"}, "per_type": {TYPE: {...}}, ...}`."""
    bounds = [("micro", interval.get("micro"))]
    per_type = interval.get("per_type", {})
    if not isinstance(per_type, dict):
        raise ResultsFileError(f"{where}.per_type: must be an object, got {_kind(per_type)}")
    bounds += [(f"per_type[{name!r}]", value) for name, value in per_type.items()]
    for name, value in bounds:
        if not isinstance(value, dict):
            raise ResultsFileError(f"{where}.{name}: must be an object, got {_kind(value)}")
        for key in ("estimate", "low", "high"):
            if not _is(value.get(key), _NUM):
                raise ResultsFileError(
                    f"{where}.{name}.{key}: must be a number, got {_kind(value.get(key))}"
                )


_EXPECTED_FIELDS = (("strategy", str), ("config", str), ("eval_lang", str), ("f1", _NUM))
_FINDING_FIELDS = tuple((key, str) for key in ("study", "name", "says", "claim", "verdict"))


def _check_objects(path, name: str, items, fields) -> None:
    """results.json's list `name` holds objects whose `fields` ((key, types), ...) have
    those types; the first that does not is one line naming it."""
    if not isinstance(items, list):
        raise ResultsFileError(f"{path}: {name}: must be a list, got {_kind(items)}")
    for i, item in enumerate(items):
        where = f"{path}: {name}[{i}]"
        if not isinstance(item, dict):
            raise ResultsFileError(f"{where}: must be an object, got {_kind(item)}")
        for key, kinds in fields:
            if not _is(item.get(key), kinds):
                raise ResultsFileError(
                    f"{where}.{key}: must be {_name(kinds)}, got {_kind(item.get(key))}"
                )


def _is(value, kinds) -> bool:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def _name(kinds) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", list: "a list",
             dict: "an object", type(None): "null"}  # fmt: skip
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if kinds == _NUM:
        return "a number"
    return " or ".join(dict.fromkeys(names[k] for k in kinds))


def _kind(value) -> str:
    """A JSON value, shortly: `the string '0.5'`, `null`, `a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int | float):
        return repr(value)
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
