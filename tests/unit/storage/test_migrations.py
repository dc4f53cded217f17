"""Migration 0005: automatic escalations that found no level above, counted as escalations by
earlier versions, stop being counted; real escalations stay."""

from storage import db as db_module

EARLIER = 4  # the schema before the coordination fixes


async def test_escalations_that_moved_nothing_are_no_longer_counted(tmp_path):
    conn = await db_module.connect(tmp_path / "old.sqlite3")
    try:
        for number, _, sql in db_module.migrations()[:EARLIER]:
            for statement in db_module._statements(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
        for code, parent, level, kind in (
            ("51", None, "provinsi", "Provinsi"),
            ("51.03", "51", "kabkota", "Kabupaten"),
            ("51.03.01", "51.03", "kecamatan", "Kecamatan"),
        ):
            await conn.execute(
                "INSERT INTO regions (code, parent_code, level, kind, name, search_name) VALUES (?, ?, ?, ?, ?, ?)",
                (code, parent, level, kind, code, code),
            )
        await conn.execute(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)"
            " VALUES (100, 'petugas', '51.03.01', 'Wayan', 't')"
        )
        await conn.execute(
            "INSERT INTO incidents (id, kind, severity, region_code, reporter_id, description, source_chat_id,"
            " source_message_id, reported_at, received_at, handling_region, escalations)"
            " VALUES (1, 'insiden', 'kritis', '51.03.01', 100, 'banjir', 100, 1, 't0', 't0', '51', 2)"
        )
        for event_id, action, region in (
            (1, "lapor", "51.03.01"),
            (2, "eskalasi_otomatis", "51.03"),
            (3, "lampiran", "51.03.01"),
            (4, "eskalasi", "51"),
            (5, "eskalasi_otomatis", "51"),
        ):  # 5: at the top, nothing moved
            await conn.execute(
                "INSERT INTO incident_events (id, incident_id, at, actor_id, action, region_code)"
                " VALUES (?, 1, ?, NULL, ?, ?)",
                (event_id, f"t{event_id}", action, region),
            )
        counted = await conn.execute_fetchall("SELECT event_id FROM incident_escalations ORDER BY event_id")
        assert [r[0] for r in counted] == [2, 4, 5]  # the old trigger counted the last one too
        await db_module.migrate(conn)
        counted = await conn.execute_fetchall("SELECT event_id FROM incident_escalations ORDER BY event_id")
        assert [r[0] for r in counted] == [2, 4]
        # and from now on: another wait at the top is not counted, an event without a region is
        await conn.execute(
            "INSERT INTO incident_events (id, incident_id, at, action, region_code)"
            " VALUES (6, 1, 't6', 'eskalasi_otomatis', '51')"
        )
        await conn.execute("INSERT INTO incident_events (id, incident_id, at, action) VALUES (7, 1, 't7', 'eskalasi')")
        counted = await conn.execute_fetchall("SELECT event_id FROM incident_escalations ORDER BY event_id")
        assert [r[0] for r in counted] == [2, 4, 7]
    finally:
        await conn.close()


async def test_reject_reopen_keeps_every_row_index_and_trigger(tmp_path, monkeypatch):
    """Migration 0009 widens the status CHECKs for 'ditolak' by rebuilding incidents and
    incident_events: rows, indexes and triggers survive, and the new status is accepted."""
    conn = await db_module.connect(tmp_path / "old.sqlite3")
    try:
        every = db_module.migrations()
        monkeypatch.setattr(db_module, "migrations", lambda: every[:8])
        await db_module.migrate(conn)
        monkeypatch.setattr(db_module, "migrations", lambda: every[:9])
        for code, parent, level, kind in (
            ("51", None, "provinsi", "Provinsi"),
            ("51.03", "51", "kabkota", "Kabupaten"),
            ("51.03.01", "51.03", "kecamatan", "Kecamatan"),
        ):
            await conn.execute(
                "INSERT INTO regions (code, parent_code, level, kind, name, search_name) VALUES (?, ?, ?, ?, ?, ?)",
                (code, parent, level, kind, code, code),
            )
        await conn.execute(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)"
            " VALUES (100, 'petugas', '51.03.01', 'Wayan', 't')"
        )
        await conn.execute(
            "INSERT INTO incidents (id, kind, severity, region_code, reporter_id, description, source_chat_id,"
            " source_message_id, reported_at, received_at, handling_region, last_reported_at)"
            " VALUES (1, 'insiden', 'kritis', '51.03.01', 100, 'banjir', 100, 1, 't0', 't0', '51.03.01', 't0')"
        )
        schema = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('incidents', 'incident_events')"
        before = {(r[0], r[1]) for r in await conn.execute_fetchall(schema)}
        tally = "SELECT status, n FROM incident_tally WHERE scope = '51' AND n > 0 ORDER BY status"
        assert [tuple(r) for r in await conn.execute_fetchall(tally)] == [("baru", 1)]

        assert await db_module.migrate(conn) == ["0009_reject_reopen.sql"]

        assert {(r[0], r[1]) for r in await conn.execute_fetchall(schema)} == before
        assert [tuple(r) for r in await conn.execute_fetchall("SELECT id, description FROM incidents")] == [
            (1, "banjir")
        ]
        assert [tuple(r) for r in await conn.execute_fetchall("SELECT action FROM incident_events")] == [("lapor",)]
        await conn.execute("UPDATE incidents SET status = 'ditolak', resolved_at = 't1' WHERE id = 1")
        await conn.execute(
            "INSERT INTO incident_events (incident_id, at, action, from_status, to_status)"
            " VALUES (1, 't1', 'tolak', 'baru', 'ditolak')"
        )
        assert [tuple(r) for r in await conn.execute_fetchall(tally)] == [("ditolak", 1)]
        assert await conn.execute_fetchall("PRAGMA foreign_key_check") == []
    finally:
        await conn.close()
