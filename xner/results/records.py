"""Result records and the results file: `{"schema": 1, "run": {...}, "results": [...]}`."""

from __future__ import annotations

import dataclasses
import datetime
import json
import platform
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# OutputError and write_atomic stay importable from here, where older xner had them.
from xner.writer import OutputError, write_atomic, write_json  # noqa: F401

SCHEMA = 1


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
    profile: str = ""  # the study's name (report, smoke, a study file's stem)
    strategy_version: int = 1
    runtime: dict = field(default_factory=dict)  # how it executed: xner.training.device.resolve()
    train_steps: int = 0  # optimizer steps taken
    seconds_per_step: float = 0.0  # after the first step (see xner.training.train.StepClock)
    size: int | None = None  # the few-shot size trained at (None: the whole split)
    reference: str | None = None  # the strategy a curve is drawn against (few-shot: zero-shot)
    # Bootstrap intervals of F1 (xner.results.intervals.Intervals.to_dict: micro and per type) and the
    # per-sentence counts they and paired comparisons resample (xner.results.intervals.encode_counts).
    interval: dict | None = None
    sentence_counts: str | None = None

    @property
    def study(self) -> str:
        """The study's name: what `profile` holds (results.json keeps that field name)."""
        return self.profile

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"result record has unknown fields {sorted(unknown)}")
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
        "commit": _git_commit(),
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


def save_results(
    path: str | Path,
    results: Iterable[Result],
    run: dict | None = None,
    expected: list[dict] | None = None,
) -> Path:
    """Write results (and the expected figures they were checked against) as JSON, atomically."""
    payload = {
        "schema": SCHEMA,
        "run": run if run is not None else run_facts(),
        "results": [r.to_dict() for r in results],
    }
    if expected:
        payload["expected"] = expected
    return write_json(path, payload)


def load_results(path: str | Path) -> ResultsFile:
    """Read a results.json, checking its schema."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
        found = payload.get("schema") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path}: results schema {found!r}, this xner reads schema {SCHEMA}")
    try:
        results = [Result.from_dict(r) for r in payload["results"]]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: malformed results ({err})") from None
    expected = payload.get("expected", [])
    studies = {r.profile for r in results}
    if len(studies) == 1:
        # Files from before expected records named their study: theirs is the results' one.
        (study,) = studies
        expected = [{"study": study} | e if "study" not in e else e for e in expected]
    return ResultsFile(results=results, run=payload.get("run", {}), expected=expected)
