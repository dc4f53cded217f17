"""Connection, pragmas and numbered migrations.

Every connection runs in WAL mode with `synchronous=FULL`, foreign keys on and a busy timeout.
Migrations are the files `storage/migrations/NNNN_name.sql`, applied in order, each in its own
transaction, and recorded in `PRAGMA user_version`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.instance import create_private

BUSY_TIMEOUT_MS = 10_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
#: a migration that rebuilds tables runs with foreign keys off (checked before it commits)
_REBUILD_MARK = "-- migrate: foreign keys off while tables are rebuilt"


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
    """Open (creating the folder, and the file with mode 0600) a configured connection;
    `DatabaseUnavailable` if that fails."""
    path = Path(path)
    conn = None
    try:
        create_private(path)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        await _configure(conn)
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:  # an open connection's thread would keep the process alive
            await conn.close()
        raise DatabaseUnavailable(f"{path} tidak bisa dibuka ({_reason(exc)})") from exc
    return conn


def check_before_open(path: Path) -> None:
    """Refuse, before SQLite touches them, files the bot must not start on.

    An empty (or missing) database beside a non-empty `-wal` file is a database whose main file
    was lost or truncated: SQLite would quietly start a new one (and throw the log away), and
    every officer would be told they are not registered. A file or folder without write
    permission would start, then fail every report."""
    wal = path.with_name(path.name + "-wal")
    main_size = path.stat().st_size if path.exists() else 0
    if main_size == 0 and wal.exists() and wal.stat().st_size > 0:
        raise DatabaseUnavailable(
            f"{path}: berkas basis data kosong atau hilang, padahal {wal.name} di sebelahnya berisi data; "
            "pulihkan dari cadangan (jangan hapus berkas -wal)"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise DatabaseUnavailable(f"{path}: hanya-baca (tidak ada izin tulis untuk berkas ini)")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(f"{path}: folder {folder} hanya-baca (SQLite perlu menulis -wal di sana)")


async def check_integrity(conn: aiosqlite.Connection, path: Path) -> None:
    """`PRAGMA quick_check`: a corrupt page is refused at start, not met by the first report."""
    try:
        async with conn.execute("PRAGMA quick_check") as cur:
            rows = await cur.fetchall()
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnavailable(f"{path}: rusak ({_reason(exc)}); pulihkan dari cadangan") from exc
    try:  # a read-only mount, or a file root may read but not lock for writing
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise DatabaseUnavailable(f"{path}: hanya-baca ({_reason(exc)})") from exc
        # busy (another process writes): usable, and the caller's own writes wait or say so
    problems = [str(row[0]) for row in rows if str(row[0]) != "ok"]
    if problems:
        raise DatabaseUnavailable(
            f"{path}: rusak (PRAGMA quick_check: {problems[0]}"
            + (f", dan {len(problems) - 1} masalah lain" if len(problems) > 1 else "")
            + "); pulihkan dari cadangan"
        )


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


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
        # A migration that rebuilds a table (SQLite's "12-step" procedure) runs with foreign keys
        # off, checked before it commits. Two ways to say so: `-- rebuilds: TABLE` lines (the runner
        # keeps the table's triggers and indexes, see REBUILDS), or, in 0007 and 0009 as released,
        # the line `_REBUILD_MARK` (the migration sets legacy_alter_table and re-creates them itself).
        rebuilt = _rebuilds(sql)
        marked = _REBUILD_MARK in sql.splitlines()
        if rebuilt or marked:
            await conn.execute("PRAGMA foreign_keys = OFF")
        if rebuilt:
            await conn.execute("PRAGMA legacy_alter_table = ON")
        # executescript would COMMIT on its own; run statement by statement inside BEGIN.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            kept = await _triggers_and_indexes(conn, rebuilt)
            for statement in _statements(sql):
                await conn.execute(statement)
            await _restore(conn, kept)
            if rebuilt or marked:
                broken = await conn.execute_fetchall("PRAGMA foreign_key_check")
                if broken:
                    raise RuntimeError(f"migration {name} breaks foreign keys: {[tuple(r) for r in broken][:5]}")
            await conn.execute(f"PRAGMA user_version = {number}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        finally:
            if rebuilt:
                await conn.execute("PRAGMA legacy_alter_table = OFF")
            if rebuilt or marked:
                await conn.execute("PRAGMA foreign_keys = ON")
        applied.append(name)
    return applied


#: a migration that rebuilds a table (SQLite cannot drop a UNIQUE or CHECK constraint in place)
#: names it on a line `-- rebuilds: TABLE`; the runner then keeps the table's triggers and
#: indexes — whichever migrations made them — and runs it with foreign keys off, checked at the end
REBUILDS = re.compile(r"^-- rebuilds: (\w+)\s*$", re.MULTILINE)


def _rebuilds(sql: str) -> list[str]:
    return REBUILDS.findall(sql)


async def _triggers_and_indexes(conn: aiosqlite.Connection, tables: list[str]) -> list[tuple[str, str]]:
    """(name, SQL) of the triggers and explicit indexes on `tables`, to create again afterwards."""
    if not tables:
        return []
    marks = ", ".join("?" for _ in tables)
    rows = await conn.execute_fetchall(
        f"SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY type DESC, rowid",
        tables,
    )
    return [(row[0], row[1]) for row in rows]


async def _restore(conn: aiosqlite.Connection, kept: list[tuple[str, str]]) -> None:
    """Create again what a rebuild dropped; what the migration created itself (same name) wins."""
    for name, sql in kept:
        exists = await conn.execute_fetchall("SELECT 1 FROM sqlite_master WHERE name = ?", (name,))
        if not exists:
            await conn.execute(sql)


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

    `write`s that arrive while others are being written are committed together (group commit):
    with `synchronous=FULL` every commit waits for the disk, and that wait, not the statements,
    bounds how many reports a second one connection can store (an SSD's fsync takes 0.2-2 ms, a
    disk's 10 ms). Each statement stays all-or-nothing on its own, see `write`.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self._queued: list[tuple[str, tuple | dict, asyncio.Future[list[aiosqlite.Row]]]] = []
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | str, *, migrate_schema: bool = True) -> Database:
        """Open the bot's database, refusing one it could not use: `DatabaseUnavailable` names the
        file and the problem (read-only, corrupt, emptied beside the write-ahead log of a real one)."""
        check_before_open(Path(path))
        conn = await connect(path)
        try:
            await check_integrity(conn, Path(path))
            if migrate_schema:
                await migrate(conn)
        except BaseException as exc:
            await conn.close()  # an open connection's thread would keep the process alive
            if isinstance(exc, DatabaseUnavailable):
                raise DatabaseUnavailable(exc if str(exc).startswith(f"{path}:") else f"{path}: {exc}") from exc
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
        """One statement, durable when this returns; the rows of its `RETURNING` clause.

        The statement and its triggers take effect together or not at all. It may share its
        transaction with other `write`s queued meanwhile; a statement that fails (a UNIQUE key
        refusing a repeat, say) is undone alone — SQLite's ABORT keeps the transaction and the
        other statements in it — and its error is raised here, to its caller only."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[aiosqlite.Row]] = loop.create_future()
        self._queued.append((sql, params, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_queued(), name="database-writes")
        return await future

    async def _write_queued(self) -> None:
        """Write what is queued, a batch per transaction, until the queue is empty."""
        while self._queued:
            async with self._write_lock:
                batch, self._queued = self._queued, []
                if len(batch) == 1:  # alone: SQLite's autocommit, one trip
                    sql, params, future = batch[0]
                    try:
                        rows = list(await self.conn.execute_fetchall(sql, params))
                    except Exception as exc:  # noqa: BLE001 - it belongs to the caller
                        _settle(future, exc)
                    else:
                        _settle(future, rows)
                    continue
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[tuple[str, tuple | dict, asyncio.Future[list[aiosqlite.Row]]]]) -> None:
        try:
            await self.conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - busy beyond the timeout, disk gone: every caller's
            for _, _, future in batch:
                _settle(future, exc)
            return
        outcomes: list[list[aiosqlite.Row] | BaseException] = []
        for index, (sql, params, _) in enumerate(batch):
            try:
                outcomes.append(list(await self.conn.execute_fetchall(sql, params)))
            except sqlite3.Error as exc:
                outcomes.append(exc)
                if not self.conn.in_transaction:  # rolled back as a whole (not a mere ABORT)
                    lost = sqlite3.OperationalError(f"rolled back with a statement that failed: {exc}")
                    for _, _, future in batch[:index]:
                        _settle(future, lost)
                    _settle(batch[index][2], exc)
                    self._queued[:0] = batch[index + 1 :]  # the rest go again, in a new transaction
                    return
        try:
            await self.conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - nothing of the batch was written
            with contextlib.suppress(sqlite3.Error):
                await self.conn.execute("ROLLBACK")
            for _, _, future in batch:
                _settle(future, exc)
            return
        for (_, _, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        rows = list(await self.conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def fetchvalue(self, sql: str, params: tuple | dict = ()) -> Any:
        """The first column of the first row of a query that always returns one (an aggregate)."""
        row = await self.fetchone(sql, params)
        if row is None:
            raise LookupError(f"no row: {sql}")
        return row[0]

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))


def _settle(future: asyncio.Future, outcome: object) -> None:
    """Give a queued write its rows or its error (unless its caller stopped waiting)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
