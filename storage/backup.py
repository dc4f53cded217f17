"""Backup and restore of the database file.

`backup` copies with SQLite's online backup API (consistent while the bot writes), into a file
created 0600 (it holds NIKs), and checks the copy with `PRAGMA integrity_check` before it
reports success; a copy that fails the check is deleted.

`restore` never copies over a database in use: the caller holds the instance lock
(`storage.instance`). The current database is moved aside *with* its `-wal` and `-shm` files
under one new name, so what it held (a crashed process's last commits live in the `-wal`) can
still be opened; copying a backup over the main file alone, next to an old `-wal`, is what gives
"database disk image is malformed".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.db import connect
from storage.instance import OWNER_ONLY

COMPANIONS = ("-wal", "-shm", "-journal")


class BackupFailed(Exception):
    """The copy or the file to restore is unusable; the message is one line for the operator."""


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of the file at `path`, read-only: "ok" or the first problem."""
    if not path.is_file():
        raise BackupFailed(f"{path}: berkas tidak ada")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"{path}: bukan basis data SQLite yang utuh ({exc})") from None
    problems = [str(r[0]) for r in rows]
    return "ok" if problems == ["ok"] else "; ".join(problems[:3])


async def backup(database: Path, target: Path) -> None:
    """Copy `database` to the new file `target` (mode 0600) and check the copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY)  # FileExistsError: caller's
    os.close(fd)
    try:
        source = await connect(database)
        try:
            async with aiosqlite.connect(str(target)) as dest:
                await source.backup(dest)
                # one self-contained file (the copy took the source's WAL mode with its pages)
                await dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            await source.close()
        verdict = integrity(target)
        if verdict != "ok":
            raise BackupFailed(f"{target}: salinan gagal diperiksa ({verdict})")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise


def aside_name(database: Path, at: datetime) -> Path:
    return database.with_name(f"{database.name}.sebelum-pulih-{at:%Y%m%dT%H%M%S}")


def restore(database: Path, source: Path, at: datetime) -> list[Path]:
    """Put the backup `source` in place of `database` (the caller holds the instance lock).

    The backup is checked first; the current database and its companions are moved aside under
    `aside_name(...)` (returned, in order); the copy is written 0600 under a temporary name,
    synced, then renamed into place, so a crash leaves either the old or the new file."""
    verdict = integrity(source)
    if verdict != "ok":
        raise BackupFailed(f"{source}: cadangan rusak ({verdict}); tidak dipulihkan")
    database.parent.mkdir(parents=True, exist_ok=True)
    aside = aside_name(database, at)
    moved: list[Path] = []
    if database.exists():
        database.rename(aside)
        moved.append(aside)
    for suffix in COMPANIONS:
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            target = aside.with_name(aside.name + suffix)  # SQLite finds them by this name
            companion.rename(target)
            moved.append(target)
    partial = database.with_name(database.name + ".pulih-sementara")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    partial.rename(database)
    with contextlib.suppress(OSError):  # the rename itself durable
        dir_fd = os.open(database.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return moved
