"""The one place xner writes a file: results.json, results.csv, tables.md, the plots, cache
entries and generated study files all go through `write_atomic`. Plain data: no torch, no
other xner module, so every module (the torch-free ones included) can use it.

Atomic: the content goes to a temporary file in the same folder, renamed over the target
(`os.replace`), so a reader never sees half a file and a crash or full disk leaves the
previous version as it was; on any error the temporary is removed and the error is one
`OutputError` naming the file. The folder checks of a run (`check_writable`, `FolderLock`)
are here too, so that no other module opens a file for writing.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path


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


def write_json(path: str | Path, payload: object, indent: int = 2) -> Path:
    """`payload` as JSON (UTF-8, a final newline), atomically."""
    return write_atomic(path, json.dumps(payload, indent=indent, ensure_ascii=False) + "\n")


def write_figure(fig, path: str | Path) -> Path:
    """A matplotlib figure as PNG, atomically: rendered in memory first, so a full disk
    cannot leave half a PNG behind."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return write_atomic(path, buffer.getvalue())


def check_writable(folder: str | Path) -> Path:
    """Fail now, not after hours of training, if `folder` (created if need be) cannot take a
    run's files: a probe file is written and removed, which a read-only mount or a full disk
    refuses even to root, whose permission bits checks would wave through."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / ".xner-probe", "probe\n").unlink()
    except OSError as err:
        reason = err.strerror or str(err).rsplit("(", 1)[-1].rstrip(")")
        raise OutputError(f"{folder}: cannot write results here ({reason})") from None
    return folder


class FolderLock:
    """An exclusive hold on a results folder for one run: a second run on the same folder
    stops at once, saying who holds it, instead of interleaving its files with the first's.
    The lock is the kernel's (flock), so it ends with the process, however that ends."""

    def __init__(self, folder: str | Path, wait: bool = False):
        self.path = Path(folder) / ".xner.lock"
        self.file = None
        self.wait = wait  # block until the holder is done (a history store's brief writes)

    def __enter__(self) -> FolderLock:
        import fcntl
        import os

        self.file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until exit
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise OutputError(
                f"{self.path.parent}: in use by another xner run ({holder}); give this run "
                "its own folder or wait for that one to end"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()}")
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()  # releases the flock
            self.file = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
