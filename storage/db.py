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
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.instance import create_private

T = TypeVar("T")
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


class TxCursor:
    """A cursor inside `Database.atomic`: aiosqlite's cursor calls, done at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._cursor.fetchone()
        return row

    async def fetchall(self) -> list[sqlite3.Row]:
        return self._cursor.fetchall()


class Tx:
    """The connection inside `Database.atomic`: aiosqlite's calls (`execute`, `execute_fetchall`,
    `executemany`), each done at once — the body runs on the connection's thread."""

    __slots__ = ("_raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    @property
    def in_transaction(self) -> bool:
        return self._raw.in_transaction

    async def execute(self, sql: str, parameters: Any = ()) -> TxCursor:
        return TxCursor(self._raw.execute(sql, parameters))

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[sqlite3.Row]:
        return self._raw.execute(sql, parameters).fetchall()

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> TxCursor:
        return TxCursor(self._raw.executemany(sql, parameters))


#: what a helper writing inside a transaction is given: `Database.transaction`'s connection or
#: `Database.atomic`'s
Conn = aiosqlite.Connection | Tx


class Database:
    """One shared connection for the bot, with a lock that serialises writes.

    aiosqlite runs every call on one worker thread, so reads never block the event loop; the
    lock keeps one coroutine's BEGIN...COMMIT from interleaving with another's statements.
    Every call is a round trip to that thread, the dominant cost of a report: reads fetch their
    rows in the same trip (`fetchone`, `fetchall`), and a change that is one statement (its
    triggers included, which SQLite runs atomically with it) is one trip with `write`.

    Writes (`write`: one statement; `atomic`: a transaction's body) that arrive while others are
    being written are committed together (group commit), in one trip: with `synchronous=FULL`
    every commit waits for the disk, and a trip through a busy event loop per statement held
    the write lock longer still. Each write stays all-or-nothing on its own, see `write` and
    `atomic`. The older `transaction()` (a statement per round trip, under the lock, committed
    alone) remains for the rare changes: registrations, groups, imports, schedules.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self._queued: list[tuple[_Write, asyncio.Future[Any]]] = []
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
        transaction with other writes queued meanwhile (`_write_queued`); a statement that fails
        (a UNIQUE key refusing a repeat, say) is undone alone — SQLite's ABORT keeps the
        transaction and the other statements in it — and its error is raised here, to its caller
        only."""
        rows: list[aiosqlite.Row] = await self._enqueue(_Write(sql, params, None))
        return rows

    async def atomic(self, body: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """`body(tx)` all or nothing, durable when this returns; what the body returns.

        The body runs on the connection's thread, each of its awaits on `tx` done at once: it
        awaits nothing but `tx` (anything else is refused with a RuntimeError and undone) and calls
        only plain functions. Like a `write`, it may share its transaction with other writes
        queued meanwhile, inside a savepoint of its own: when it raises, only its changes are
        undone, and the exception reaches its caller only.

        This is how the transactions of a report are written. `transaction()` holds the write
        lock for a round trip through the event loop per statement and commits alone: under a
        rush of reports the lock was held 94 % of the time at 190 reports/s (bench/ingest.py),
        each report waiting for the others' round trips and fsyncs."""
        result: T = await self._enqueue(_Write(None, (), body))
        return result

    async def _enqueue(self, write: _Write) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((write, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_queued(), name="database-writes")
        return await future

    async def _write_queued(self) -> None:
        """Write what is queued, a batch per transaction (one trip to the connection's thread,
        one commit: group commit), until the queue is empty. With `synchronous=FULL` every commit
        waits for the disk (an SSD's fsync takes 0.2-2 ms, a disk's 10 ms); the writes that
        arrive meanwhile share the next one."""
        while self._queued:
            async with self._write_lock:
                batch, self._queued = self._queued, []
                outcome = await self.in_thread(_write_batch, [write for write, _ in batch])
                if isinstance(outcome, BaseException):  # BEGIN or COMMIT failed: nothing was written
                    for _, future in batch:
                        _settle(future, outcome)
                    continue
                outcomes, failed_at = outcome
                if failed_at is not None:  # write `failed_at` rolled back the whole transaction
                    error = outcomes[failed_at]
                    lost = sqlite3.OperationalError(f"rolled back with a write that failed: {error}")
                    for _, future in batch[:failed_at]:
                        _settle(future, lost)
                    _settle(batch[failed_at][1], error)
                    self._queued[:0] = batch[failed_at + 1 :]  # the rest go again, in a new transaction
                    continue
                for (_, future), result in zip(batch, outcomes, strict=True):
                    _settle(future, result)

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(sqlite3_connection, *args)` on the connection's worker thread, in aiosqlite's queue
        (so in order with every other call), in one trip. For work that would otherwise take a
        round trip per statement while holding the write lock (the group commit). aiosqlite has no
        public call for this; `_execute` and `_conn` are its own way of doing it, pinned by
        requirements.lock and exercised by every write test."""
        conn = self.conn
        return await conn._execute(fn, conn._conn, *args)  # noqa: SLF001

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


@dataclass(frozen=True, slots=True)
class _Write:
    """A queued write: a statement (`sql`, `params`) or a body (`Database.atomic`)."""

    sql: str | None
    params: tuple | dict
    body: Callable[[Tx], Coroutine[Any, Any, Any]] | None


def _run_body(raw: sqlite3.Connection, body: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """Drive an `atomic` body, which completes without suspending: its awaits on `Tx` are done at once."""
    coroutine = body(Tx(raw))
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("Database.atomic: the body awaited something other than its connection")


def _write_one(raw: sqlite3.Connection, write: _Write) -> Any:
    if write.body is None:
        assert write.sql is not None
        return raw.execute(write.sql, write.params).fetchall()
    raw.execute("SAVEPOINT atomic")
    try:
        result = _run_body(raw, write.body)
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK TO atomic")
            raw.execute("RELEASE atomic")
        raise
    raw.execute("RELEASE atomic")
    return result


def _write_batch(raw: sqlite3.Connection, writes: list[_Write]) -> tuple[list[Any], int | None] | BaseException:
    """On the connection's thread: BEGIN IMMEDIATE, each write, COMMIT. A statement that fails is
    undone alone by SQLite's ABORT, a body that raises by its savepoint; its exception is its
    outcome. Returns (outcomes, None); (outcomes, i) when write i's failure rolled back the whole
    transaction (a disk error, say); the exception when BEGIN or COMMIT failed (nothing written)."""
    try:
        raw.execute("BEGIN IMMEDIATE")
    except Exception as exc:  # noqa: BLE001 - busy beyond the timeout, disk gone: every caller's
        return exc
    outcomes: list[Any] = []
    for index, write in enumerate(writes):
        try:
            outcomes.append(_write_one(raw, write))
        except Exception as exc:  # noqa: BLE001 - it belongs to the write's caller
            outcomes.append(exc)
            if not raw.in_transaction:
                return outcomes, index
    try:
        raw.execute("COMMIT")
    except Exception as exc:  # noqa: BLE001 - nothing of the batch was written
        with contextlib.suppress(sqlite3.Error):
            raw.execute("ROLLBACK")
        return exc
    return outcomes, None


def _settle(future: asyncio.Future, outcome: object) -> None:
    """Give a queued write its rows or its error (unless its caller stopped waiting)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
