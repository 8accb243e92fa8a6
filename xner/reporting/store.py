"""A history store: a folder that keeps finished runs, one subfolder each, for
`xner history STORE` (`xner run --keep STORE`, pytest `--xner-keep STORE`).

Each run gets a new subfolder named by its date, commit and versions
(`20261201T101500Z-9424e53-transformers-4.40.2-torch-2.13.0`, `-2` added where two runs
share that name), so nothing kept is ever overwritten. Writers hold the store's lock while
they pick the name and copy, so concurrent runs (tox -p, several CI jobs on one share) never
share a subfolder; the lock waits, since each copy takes milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from xner.writer import FolderLock, check_writable, write_atomic

# The libraries a subfolder's name carries (all of them are in its results.json).
NAMED_VERSIONS = ("transformers", "torch")


def run_folder_name(run: Mapping) -> str:
    """`<date>-<commit>-transformers-<v>-torch-<v>` from a run's facts (results.json `run`)."""
    created = re.sub(r"[^0-9T]", "", str(run.get("created", "")))[:15] or "undated"
    commit = str(run.get("commit", "") or "no-commit")
    commit = commit[:7] if re.fullmatch(r"[0-9a-f]{40}", commit) else commit
    versions = run.get("versions", {})
    parts = [f"{created}Z", commit] + [
        f"{name}-{versions[name]}" for name in NAMED_VERSIONS if name in versions
    ]
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", "-".join(parts))


def keep_run(store: str | Path, run: Mapping, files: Sequence[Path]) -> Path:
    """Copy a finished run's `files` (results.json and the rest, as written) into a new
    subfolder of `store`; returns that subfolder."""
    store = check_writable(store)
    if not any(Path(f).name == "results.json" for f in files):
        raise ValueError(f"{store}: a kept run needs its results.json (got {len(files)} files)")
    name = run_folder_name(run)
    with FolderLock(store, wait=True):
        folder, n = store / name, 1
        while True:
            try:
                folder.mkdir()
                break
            except FileExistsError:
                n += 1
                folder = store / f"{name}-{n}"
        for path in map(Path, files):
            write_atomic(folder / path.name, path.read_bytes())
    return folder
