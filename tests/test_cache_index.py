"""The cache index (xner.execution.cache): a configuration's entry found without torch, so that
a rerun whose every configuration is cached starts no worker; and only ever a shortcut: a
missing or unreadable entry is a miss, and any input that moves a figure moves the key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from tests.factories import make_result
from xner.execution.cache import CACHE_SCHEMA, recall, remember, request_key
from xner.execution.engine import Engine
from xner.spec.runtime import Runtime
from xner.spec.strategies import TrainConfig
from xner.spec.study import load_study
from xner.writer import write_json

ZERO = TrainConfig("zero-shot", ("de",), ("de", "fr"))


def _entry(cache, name="smoke-zero-shot-de-seed0-0123456789abcdef.json"):
    results = [make_result(0.4, eval_lang="de"), make_result(0.3, eval_lang="fr")]
    write_json(cache / name, {"schema": CACHE_SCHEMA, "results": [r.to_dict() for r in results]})
    return cache / name, results


def test_an_indexed_entry_is_read_back_and_a_gone_one_is_a_miss(tmp_path):
    study = load_study("smoke")
    key = request_key(study, ZERO, 0, study.runtime, None, None)
    assert recall(tmp_path, key) is None  # nothing indexed
    entry, results = _entry(tmp_path)
    remember(tmp_path, key, entry)
    assert [r.f1 for r in recall(tmp_path, key)] == [0.4, 0.3]
    entry.unlink()
    assert recall(tmp_path, key) is None


def test_every_input_that_can_move_a_figure_moves_the_key(tmp_path):
    study = load_study("smoke")
    key = request_key(study, ZERO, 0, study.runtime, None, None)
    assert key == request_key(load_study("smoke"), ZERO, 0, study.runtime, None, None)
    others = [
        request_key(study, ZERO, 1, study.runtime, None, None),
        request_key(study, dataclasses.replace(ZERO, eval_langs=("de",)), 0, study.runtime,
                    None, None),
        request_key(study, ZERO, 0, Runtime(dtype="bf16"), None, None),
        request_key(study, ZERO, 0, study.runtime, "tiny-128", None),
        request_key(study, ZERO, 0, study.runtime, None, str(tmp_path)),
        request_key(load_study("report"), ZERO, 0, study.runtime, None, None),
    ]  # fmt: skip
    assert key not in others and len(set(others)) == len(others)


def test_a_cached_job_is_answered_without_a_worker_or_torch(tmp_path):
    """The engine answers an indexed job itself; a forced one is not answered."""
    code = f"""
import sys
from pathlib import Path
from xner.execution.cache import remember, request_key
from xner.execution.engine import Engine
from xner.spec.study import load_study
from xner.spec.strategies import TrainConfig
from tests.test_cache_index import _entry
cache = Path({str(tmp_path)!r})
study = load_study("smoke")
engine = Engine(cache.parent / "out", cache)
config = TrainConfig("zero-shot", ("de",), ("de", "fr"))
job = engine.job(study, config, 0)
entry, _ = _entry(cache)
remember(cache, request_key(study, config, 0, job.runtime, None, None), entry)
outcome = engine.run(job, study.name)
assert not outcome.trained and [r["f1"] for r in outcome.results] == [0.4, 0.3]
assert engine._workers is None
print("torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).parents[1])  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_forced_job_is_not_answered_from_the_index(tmp_path):
    study = load_study("smoke")
    engine = Engine(tmp_path / "out", tmp_path, force=True)
    job = engine.job(study, ZERO, 0)
    entry, _ = _entry(tmp_path)
    remember(tmp_path, request_key(study, ZERO, 0, job.runtime, None, None), entry)
    assert engine.recalled(job) is None
    assert Engine(tmp_path / "out", tmp_path).recalled(dataclasses.replace(job, force=False))
