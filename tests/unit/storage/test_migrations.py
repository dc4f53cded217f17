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
