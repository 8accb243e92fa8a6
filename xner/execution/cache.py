"""The training cache's entries, readable without torch: their format, the fingerprints of
code and sources their keys hold, and the index that lets a run find a finished
configuration's entry before any worker starts.

An entry's key (xner.execution.runner.Runner.cache_key) holds what only torch can say: the
resolved runtime and the device. A worker, once it has an entry, also records it under a
*request key* of what the parent process knows without torch (the job as asked for, xner's
code, the library versions, the sources' fingerprints, the host and its visible GPUs), so a
rerun whose every configuration is cached reads its entries in the parent and starts no worker
(a cached rerun is then a few seconds, not a worker's start-up of torch and transformers).
An index entry whose entry is gone or unreadable is only a miss: the worker path decides.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
from dataclasses import asdict
from pathlib import Path

from xner.data.corpus import corpus_fingerprint
from xner.results.records import Result, versions
from xner.spec.recipe import BUILT_IN_MODELS
from xner.writer import write_json

logger = logging.getLogger(__name__)

INDEX_FOLDER = "requests"  # inside the cache folder

PACKAGE = Path(__file__).parents[1]  # xner/, every layer


def code_fingerprint(package: Path = PACKAGE) -> str:
    """A hash of xner's own source (every .py file of `package`, by path and content): any
    code change invalidates cached results."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_fingerprint(source: str) -> str:
    """For a local folder, every file's name, size and modification time; else the name."""
    path = Path(source)
    if source in ("hub", "synthetic", *BUILT_IN_MODELS) or not path.is_dir():
        return source
    stats = sorted(
        (p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()


# 2: records of results schema 2 (study, runtime dtype). 3: each entry's records name their
# predictions files, kept beside the entry (an older entry has none, so it is moved aside and
# trained again rather than read without them).
CACHE_SCHEMA = 3


def read_cache(path: Path) -> list[Result] | None:
    """A cache entry's results, or None after moving an unreadable one aside.

    An entry torn by a crash or a full disk, one from another xner (no or another schema),
    one whose predictions files are gone, or one that is not xner's at all is not an error: it
    is moved to `<name>.unreadable` (kept, not deleted, for a look), a warning names it, and
    its configuration trains again.
    """
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("schema") != CACHE_SCHEMA:
            found = entry.get("schema") if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"cache schema {found!r}, this xner reads {CACHE_SCHEMA}")
        results = [Result.from_dict(r) for r in entry["results"]]
        for r in results:
            if r.predictions is not None and not (path.parent / Path(r.predictions).name).is_file():
                raise ValueError(f"its predictions file {Path(r.predictions).name} is missing")
        return results
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        aside = path.with_name(path.name + ".unreadable")
        with contextlib.suppress(FileNotFoundError):  # another reader moved it first
            path.replace(aside)
        logger.warning("%s: unreadable cache entry (%s); moved to %s, training again",
                       path, err, aside.name)  # fmt: skip
        return None


def request_key(study, config, seed: int, runtime, model: str | None, data: str | None) -> str:
    """What a process knows of a configuration's entry without torch: `study` (a
    xner.spec.study.Study), its TrainConfig, the seed, the Runtime as asked for, and the run's
    model and data (None: the study's)."""
    model, data = model or study.model, str(data or study.data)
    source = Path(study.source)
    inputs = {
        "study": study.ref,
        "study_file": hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else "",
        # The corpus files' contents, as the entry's own key has them: an edited file is a miss.
        "corpus": {lang: corpus_fingerprint(spec) for lang, spec in (study.corpus or {}).items()},
        "config": asdict(config),
        "seed": seed,
        "runtime": asdict(runtime),
        "model": model,
        "model_files": source_fingerprint(model),
        "data": data,
        "data_files": source_fingerprint(data),
        "code": code_fingerprint(),
        "versions": versions(),
        # The resolved runtime and device follow from the machine: the same host with the same
        # visible GPUs and environment resolves them the same way.
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "gpu_driver": Path("/proc/driver/nvidia/version").exists()
        or Path("/dev/nvidiactl").exists(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _index_path(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / INDEX_FOLDER / f"{key[:32]}.json"


def remember(cache_dir: Path, key: str, entry: Path) -> None:
    """Record that request `key` is answered by `entry` (a file of `cache_dir`)."""
    with contextlib.suppress(OSError):  # an index is a shortcut: never a reason to fail a run
        write_json(_index_path(cache_dir, key), {"entry": Path(entry).name})


def recall(cache_dir: Path, key: str) -> list[Result] | None:
    """The cached results that answer request `key`, or None (not indexed, or the entry is
    gone or unreadable: then a worker decides, as without the index)."""
    try:
        name = json.loads(_index_path(cache_dir, key).read_text(encoding="utf-8"))["entry"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    entry = Path(cache_dir) / Path(str(name)).name
    return read_cache(entry) if entry.is_file() else None
