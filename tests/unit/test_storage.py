"""Schema, pragmas and migrations: what must never be false is refused by SQLite itself."""

import sqlite3

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
        " reported_at, received_at, handling_region, tps_done, tps_total)"
        " VALUES ('rekap', 'rendah', '51', 1, 1, 1, 't', 't', '51', 9, 5)",
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
        " reported_at, received_at, handling_region, description) VALUES ('insiden', 'kritis', '51.03.01', 1, 10, 20,"
        " 't', 't', '51.03.01', 'banjir')"
    )
    async with rt.db.transaction() as conn:
        await conn.execute(insert)
    with pytest.raises(sqlite3.IntegrityError):
        async with rt.db.transaction() as conn:
            await conn.execute(insert)
