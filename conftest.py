"""Repository-wide pytest settings that tests/ and benchmarks/ share: offline Hugging Face
libraries, and no `.benchmarks/` folder left behind by a session that saved no benchmark."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The hub is out of reach: fail at once instead of retrying (read when huggingface_hub loads).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

_BENCHMARK_STORAGE = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark's (trylast) creates its storage
def pytest_configure(config: pytest.Config) -> None:
    # pytest-benchmark makes its storage folder (.benchmarks/) in every session, saving or not.
    storage = config.getoption("benchmark_storage", None)
    if isinstance(storage, str) and "://" not in storage.replace("file://", ""):
        path = Path(storage.removeprefix("file://"))
        if not path.exists():
            config.stash[_BENCHMARK_STORAGE] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    path = config.stash.get(_BENCHMARK_STORAGE, None)
    if path is not None and path.is_dir() and not any(path.iterdir()):
        path.rmdir()  # made by this session and still empty: nothing was saved
