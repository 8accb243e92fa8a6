"""Result records and the results file: `{"schema": 1, "run": {...}, "results": [...]}`."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

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
    runtime: dict = field(default_factory=dict)  # how it executed: xner.runtime.resolve()
    train_steps: int = 0  # optimizer steps taken
    seconds_per_step: float = 0.0  # after the first step (see xner.train.StepClock)
    size: int | None = None  # the few-shot size trained at (None: the whole split)
    reference: str | None = None  # the strategy a curve is drawn against (few-shot: zero-shot)
    # Bootstrap intervals of F1 (xner.intervals.Intervals.to_dict: micro and per type) and the
    # per-sentence counts they and paired comparisons resample (xner.intervals.encode_counts).
    interval: dict | None = None
    sentence_counts: str | None = None
    # The head's entity types in the order of sentence_counts' columns; None: PAN-X's three
    # (left out of the record then, so PAN-X records keep their exact fields).
    entity_types: list[str] | None = None

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


def device_name() -> str:
    """`cuda:<GPU name>` when CUDA is used, else `cpu:<CPU model>`; threads and numerics are
    in each Result's runtime."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{_cpu_model()}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_facts() -> dict:
    """Facts about the run as a whole: when, where, which commit."""
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions(),
        "device": device_name(),
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


class OutputError(OSError):
    """A file xner cannot write; the message names it and says why, in one line."""


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write `content` to `path` through a temporary file in the same folder, renamed over it:
    readers never see half a file, and on any error the temporary is removed and the old file
    (if any) stays as it was. An I/O error is an OutputError naming the file."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; results are not
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    return write_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


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
    return ResultsFile(
        results=results, run=payload.get("run", {}), expected=payload.get("expected", [])
    )
