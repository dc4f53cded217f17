"""One bot per database: an OS file lock next to the database file, and its files' permissions.

`run` takes `<DATABASE_PATH>.lock` with `flock` (exclusive, non-blocking) and writes its pid
into it; the kernel lets the lock go when the process ends, however it ends (a crash or
`kill -9` included), so a stale lock file never blocks a restart. A second `run` — or a
`restore` while the bot runs — finds the lock held and reads the holder's pid from the file.

The database and its backups hold NIKs: they are created readable by their owner only (0600).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

OWNER_ONLY = 0o600
#: the locks this process holds, by lock file: taking one again in the same process (the command
#: line's fast start, then `run` itself) shares it instead of refusing itself
_HELD: dict[Path, int] = {}


class InstanceRunning(Exception):
    """Another process holds the database's lock; `pid` is what it wrote (None if unreadable)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path}: sudah dipakai bot lain (pid {pid if pid is not None else '?'})")
        self.path = path
        self.pid = pid


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist (SQLite then takes the file as a new
    database, and gives its -wal and -shm files the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY))


class InstanceLock:
    """The exclusive lock of one database; `release()` (or the process ending) lets it go."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self.path in _HELD

    def acquire(self) -> InstanceLock:
        """Take the lock or raise `InstanceRunning` at once (never waits). Held already by this
        process: shared (and left held by its first taker when this one is released)."""
        if self.path in _HELD:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, OWNER_ONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise InstanceRunning(self.database, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        _HELD[self.path] = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            _HELD.pop(self.path, None)
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
