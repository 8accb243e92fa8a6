"""One writer per cache entry, across processes and machines sharing one cache folder.

Many shards (array tasks on several nodes, a resubmitted task, a second `xner run`) may use
one `--cache` folder on a shared filesystem at once. Two guarantees keep that safe:

- A reader never sees half an entry: entries are written to a temporary file in the same
  folder and renamed over their name (xner.writer.write_atomic; `os.replace` is atomic on
  local filesystems and on NFS). This alone keeps the cache correct, whatever the locks do.
- A configuration trains once: before training, a process takes `<entry>.lock`, created
  with `O_CREAT | O_EXCL` (atomic on NFSv3 and later, unlike `flock`, which NFS may not
  offer or may emulate per machine only). Whoever finds it taken waits until the entry
  appears (then reads it) or the lock goes stale (then takes it over).

A lock holds its owner's host, pid and a random token; its owner touches it every
HEARTBEAT seconds while it trains. It is stale when its owner is known dead (same host, no
such pid: a killed or cancelled task) or when it was not touched for STALE seconds (a node
that died: its pid cannot be asked). Taking over renames the stale lock aside first, so of
several waiters one wins; in the rare race where a waiter renames a lock just renewed by
someone else, it puts it back, and at worst one configuration trains twice - both write the
same whole entry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

HEARTBEAT = 15.0  # seconds between touches of a held lock
STALE = 120.0  # seconds without a touch after which a lock of another host is stale
POLL = 0.5  # seconds between looks while waiting


def lock_path(entry: Path) -> Path:
    """The lock of a cache entry (a file or a folder): `<entry>.lock` beside it."""
    return entry.with_name(entry.name + ".lock")


class EntryLock:
    """`with EntryLock(path) as lock: if lock.wait(ready): ...train and write...`."""

    def __init__(self, path: Path, stale: float = STALE, heartbeat: float = HEARTBEAT):
        self.path = Path(path)
        self.stale, self.heartbeat = stale, heartbeat
        self.token = f"{socket.gethostname()} {os.getpid()} {secrets.token_hex(8)}"
        self.held = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> EntryLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def wait(self, ready: Callable[[], bool], what: str = "") -> bool:
        """Take the lock (True), or return False as soon as `ready()` (another process
        wrote the entry meanwhile). Waits as long as a live owner holds it."""
        said = False
        while True:
            if ready():
                return False
            if self._try_take():
                return True
            holder = self._read(self.path)
            if holder is not None and self._is_stale(holder):
                self._take_over(holder)
                continue
            if not said and holder is not None:
                who = " pid ".join(holder.split()[:2])
                logger.warning("%s: being trained by %s; waiting for its cache entry",
                               what or self.path.name, who)  # fmt: skip
                said = True
            time.sleep(POLL)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if self.held:
            self.held = False
            if self._read(self.path) == self.token:  # never remove a lock taken over
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()

    # ---- inside ---------------------------------------------------------------------------

    def _try_take(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self.token)
        self.held = True
        self._stop.clear()
        self._beat = threading.Thread(target=self._touch, name="xner-cache-lock", daemon=True)
        self._beat.start()
        return True

    def _touch(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                os.utime(self.path)
            except OSError:
                return

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None

    def _is_stale(self, holder: str) -> bool:
        host, _, rest = holder.partition(" ")
        pid = rest.split(" ")[0]
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            return True
        try:
            return time.time() - self.path.stat().st_mtime > self.stale
        except FileNotFoundError:
            return False  # released meanwhile: the next try takes it

    def _take_over(self, holder: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.stale-{secrets.token_hex(4)}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # another waiter took it over first
        if self._read(aside) != holder:
            # Renewed between our look and the rename: it is a live lock; put it back.
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        else:
            logger.warning("%s: its holder (%s) is gone; taking it over", self.path, holder)
        aside.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
