"""Connection, pragmas and numbered migrations.

Every connection runs in WAL mode with `synchronous=FULL`, foreign keys on and a busy timeout.
Migrations are the files `storage/migrations/NNNN_name.sql`, applied in order, each in its own
transaction, and recorded in `PRAGMA user_version`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import aiosqlite

BUSY_TIMEOUT_MS = 10_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseUnavailable(Exception):
    """The database cannot be opened or used by this code; the message is one line for the operator
    ("data/bot.sqlite3 tidak bisa dibuka (unable to open database file)")."""


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__


def migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (number, file name, SQL), in order; numbers must be 1..n."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (number, name, _) in enumerate(found, start=1):
        if number != expected:
            raise RuntimeError(f"migrations are not numbered 1..n: {name} should be {expected:04d}")
    return found


async def _configure(conn: aiosqlite.Connection) -> None:
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
    conn.row_factory = aiosqlite.Row


async def connect(path: Path | str) -> aiosqlite.Connection:
    """Open (creating the folder) a configured connection; `DatabaseUnavailable` if that fails."""
    path = Path(path)
    conn = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        await _configure(conn)
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:  # an open connection's thread would keep the process alive
            await conn.close()
        raise DatabaseUnavailable(f"{path} tidak bisa dibuka ({_reason(exc)})") from exc
    return conn


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0])


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply every pending migration, each in one transaction; return the names applied."""
    applied = []
    current = await schema_version(conn)
    known = migrations()
    if current > len(known):
        raise DatabaseUnavailable(
            f"skemanya versi {current}, lebih baru dari program ini (versi {len(known)}); "
            "perbarui program bot, atau pakai basis data yang cocok"
        )
    for number, name, sql in known:
        if number <= current:
            continue
        # executescript would COMMIT on its own; run statement by statement inside BEGIN.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into complete statements (sqlite3.complete_statement knows triggers)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise RuntimeError(f"incomplete SQL statement in migration: {buf[:80]!r}")
    return out


class Database:
    """One shared connection for the bot, with a lock that serialises writes.

    aiosqlite runs every call on one worker thread, so reads never block the event loop; the
    lock keeps one coroutine's BEGIN...COMMIT from interleaving with another's statements.
    Every call is a round trip to that thread, the dominant cost of a report: reads fetch their
    rows in the same trip (`fetchone`, `fetchall`), and a change that is one statement (its
    triggers included, which SQLite runs atomically with it) is one trip with `write`.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, migrate_schema: bool = True) -> Database:
        conn = await connect(path)
        try:
            if migrate_schema:
                await migrate(conn)
        except BaseException as exc:
            await conn.close()  # an open connection's thread would keep the process alive
            if isinstance(exc, DatabaseUnavailable):
                raise DatabaseUnavailable(f"{path}: {exc}") from exc
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise DatabaseUnavailable(f"{path}: skema tidak bisa diperbarui ({_reason(exc)})") from exc
            raise
        return cls(conn, Path(path))

    async def close(self) -> None:
        await self.conn.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`async with db.transaction() as conn:` — BEGIN IMMEDIATE … COMMIT, ROLLBACK on error."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def write(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        """One statement in a transaction of its own (SQLite's autocommit: the statement and its
        triggers commit together or not at all); returns the rows of a `RETURNING` clause."""
        async with self._write_lock:
            return list(await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def backup_to(self, target: Path | str) -> None:
        """Consistent online copy with SQLite's backup API, while the bot keeps running."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(target)) as dest:
            await self.conn.backup(dest)
