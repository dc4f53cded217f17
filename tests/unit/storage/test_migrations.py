"""Migration 0005: automatic escalations that found no level above, counted as escalations by
earlier versions, stop being counted; real escalations stay."""

import sqlite3

import pytest

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

        monkeypatch.setattr(db_module, "migrations", lambda: every[:9])
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


async def test_follow_through_keeps_the_outbox_and_audit_and_rejected_figures_give_way(tmp_path, monkeypatch):
    """Migration 0010 rebuilds the outbox and the audit trail (rows kept, the new purposes and
    actions accepted), and a rejected rekapitulasi gives way to the previous report of its
    kecamatan × jenis; reopened, it is current again."""
    conn = await db_module.connect(tmp_path / "old.sqlite3")
    try:
        every = db_module.migrations()
        monkeypatch.setattr(db_module, "migrations", lambda: every[:9])
        await db_module.migrate(conn)
        monkeypatch.setattr(db_module, "migrations", lambda: every[:10])
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
        rekap = (
            "INSERT INTO incidents (id, kind, severity, status, region_code, reporter_id, item, desa_done, desa_total,"
            " source_chat_id, source_message_id, reported_at, received_at, handling_region, last_reported_at,"
            " resolved_at) VALUES (?, 'rekap', 'rendah', ?, '51.03.01', 100, 'dpr', ?, 18, 100, ?, ?, ?,"
            " '51.03.01', ?, ?)"
        )
        await conn.execute(rekap, (1, "selesai", 12, 1, "t1", "t1", "t1", "t1"))
        await conn.execute(
            "INSERT INTO outbox (dedupe_key, purpose, incident_id, chat_id, created_at, next_attempt_at)"
            " VALUES ('pelapor:1', 'pelapor', 1, 100, 't1', 't1')"
        )
        await conn.execute("INSERT INTO audit_log (at, actor_id, action, target) VALUES ('t0', 1, 'impor', 'x')")

        assert await db_module.migrate(conn) == ["0010_follow_through.sql"]

        assert [tuple(r) for r in await conn.execute_fetchall("SELECT dedupe_key, purpose FROM outbox")] == [
            ("pelapor:1", "pelapor")
        ]
        assert [tuple(r) for r in await conn.execute_fetchall("SELECT action, target FROM audit_log")] == [
            ("impor", "x")
        ]
        await conn.execute(
            "INSERT INTO outbox (dedupe_key, purpose, incident_id, chat_id, created_at, next_attempt_at)"
            " VALUES ('pengingat:1', 'pengingat', 1, 100, 't1', 't1')"
        )
        await conn.execute("INSERT INTO audit_log (at, actor_id, action, target) VALUES ('t2', 1, 'tolak', '#2')")
        # a second rekapitulasi report of the kecamatan, misread: 18 of 18
        await conn.execute(rekap, (2, "baru", 18, 2, "t2", "t2", "t2", None))
        state = "SELECT desa_done, incident_id FROM recap_state WHERE region_code = '51.03.01' AND jenis = 'dpr'"
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(18, 2)]
        await conn.execute("UPDATE incidents SET status = 'ditolak', resolved_at = 't3' WHERE id = 2")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(12, 1)]
        # rejected, it no longer holds the kecamatan × jenis open: a third report may open one
        await conn.execute(rekap, (3, "baru", 13, 3, "t4", "t4", "t4", None))
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(13, 3)]
        await conn.execute("UPDATE incidents SET status = 'selesai', resolved_at = 't5' WHERE id = 3")
        await conn.execute("UPDATE incidents SET status = 'baru', resolved_at = NULL WHERE id = 2")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(13, 3)]  # an older report stays behind
        await conn.execute("UPDATE incidents SET status = 'ditolak', resolved_at = 't6' WHERE id = 3")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(18, 2)]
        assert await conn.execute_fetchall("PRAGMA foreign_key_check") == []
    finally:
        await conn.close()


async def test_silence_migration_keeps_the_outbox_and_takes_private_rows(tmp_path, monkeypatch):
    """Migration 0011 rebuilds the outbox for rows without an incident (counting reminders,
    broadcasts): the rows queued before survive, and the new rows are checked."""
    conn = await db_module.connect(tmp_path / "old.sqlite3")
    try:
        every = db_module.migrations()
        monkeypatch.setattr(db_module, "migrations", lambda: every[:10])
        await db_module.migrate(conn)
        monkeypatch.setattr(db_module, "migrations", lambda: every[:11])
        await conn.execute(
            "INSERT INTO regions (code, parent_code, level, kind, name, search_name)"
            " VALUES ('51', NULL, 'provinsi', 'Provinsi', 'Bali', 'bali')"
        )
        await conn.execute(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)"
            " VALUES (100, 'petugas', '51', 'Wayan', 't')"
        )
        await conn.execute(
            "INSERT INTO incidents (id, kind, severity, region_code, reporter_id, description, source_chat_id,"
            " source_message_id, reported_at, received_at, handling_region, last_reported_at)"
            " VALUES (1, 'insiden', 'kritis', '51', 100, 'banjir', 100, 1, 't0', 't0', '51', 't0')"
        )
        await conn.execute(
            "INSERT INTO outbox (dedupe_key, purpose, incident_id, chat_id, created_at, next_attempt_at)"
            " VALUES ('posting:1', 'posting', 1, -100, 't0', 't0')"
        )
        assert await db_module.migrate(conn) == ["0011_silence.sql"]
        rows = await conn.execute_fetchall("SELECT id, dedupe_key, purpose, incident_id, broadcast_id FROM outbox")
        assert [tuple(r) for r in rows] == [(1, "posting:1", "posting", 1, None)]
        await conn.execute(
            "INSERT INTO outbox (dedupe_key, purpose, chat_id, region_code, created_at, next_attempt_at)"
            " VALUES ('pengingat_hitung:51:t1:100', 'pengingat_hitung', 100, '51', 't1', 't1')"
        )
        with pytest.raises(sqlite3.IntegrityError):  # a broadcast row names its broadcast
            await conn.execute(
                "INSERT INTO outbox (dedupe_key, purpose, chat_id, created_at, next_attempt_at)"
                " VALUES ('siaran:1:100', 'siaran', 100, 't1', 't1')"
            )
        with pytest.raises(sqlite3.IntegrityError):  # an incident's row names its incident
            await conn.execute(
                "INSERT INTO outbox (dedupe_key, purpose, chat_id, created_at, next_attempt_at)"
                " VALUES ('posting:x', 'posting', 100, 't1', 't1')"
            )
        assert await conn.execute_fetchall("PRAGMA foreign_key_check") == []
    finally:
        await conn.close()


async def test_reliability_migrations_keep_follow_through_and_silence(tmp_path, monkeypatch):
    """Migrations 0012-0016 come after issue 13's 0010 and 0011: the outbox rebuilt for receipts
    (0013) keeps every purpose, column, CHECK and index 0010 and 0011 gave it; the incidents rebuilt
    for report keys (0014) keep 0010's rejected-figure triggers and its one-open index; the audit
    trail rebuilt for refusals (0015) keeps 'tolak', 'buka' and 'siaran'; the delivery classes
    (0016) cover 0010's and 0011's purposes, rows waiting at the upgrade included."""
    conn = await db_module.connect(tmp_path / "old.sqlite3")
    try:
        every = db_module.migrations()
        assert [name for _, name, _ in every[11:16]] == [
            "0012_update_journal.sql",
            "0013_receipt_outbox.sql",
            "0014_report_keys.sql",
            "0015_audit_refusals.sql",
            "0016_outbox_priority.sql",
        ]
        monkeypatch.setattr(db_module, "migrations", lambda: every[:11])
        await db_module.migrate(conn)
        monkeypatch.setattr(db_module, "migrations", lambda: every)
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
        rekap = (
            "INSERT INTO incidents (id, kind, severity, status, region_code, reporter_id, item, desa_done, desa_total,"
            " source_chat_id, source_message_id, reported_at, received_at, handling_region, last_reported_at,"
            " resolved_at) VALUES (?, 'rekap', 'rendah', ?, '51.03.01', 100, 'dpr', ?, 18, 100, ?, ?, ?,"
            " '51.03.01', ?, ?)"
        )
        await conn.execute(rekap, (1, "selesai", 12, 1, "t1", "t1", "t1", "t1"))
        await conn.execute(
            "INSERT INTO broadcasts (id, sender_id, sender_chat_id, region_code, text, recipients, created_at)"
            " VALUES (1, 100, 100, 'ID', 'rapat', 1, 't1')"
        )
        insert = (
            "INSERT INTO outbox (dedupe_key, purpose, incident_id, chat_id, region_code, broadcast_id, created_at,"
            " next_attempt_at) VALUES (?, ?, ?, 100, ?, ?, 't1', 't1')"
        )
        queued = [
            ("pengingat:1", "pengingat", 1, None, None),
            ("pengingat_hitung:51.03.01:t1:100", "pengingat_hitung", None, "51.03.01", None),
            ("siaran:1:100", "siaran", None, None, 1),
        ]
        await conn.executemany(insert, queued)
        await conn.execute("INSERT INTO audit_log (at, actor_id, action, target) VALUES ('t1', 100, 'siaran', '1')")
        await conn.commit()

        assert await db_module.migrate(conn) == [name for _, name, _ in every[11:]]

        rows = await conn.execute_fetchall(
            "SELECT dedupe_key, purpose, incident_id, region_code, broadcast_id, detail FROM outbox ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [(*row, "{}") for row in queued]
        indexes = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
        )
        assert {"outbox_pending", "outbox_broadcast"} <= {r[0] for r in indexes}
        # waiting at the upgrade: a rendah incident's reminder and a counting reminder are other
        # notices, a broadcast's message goes last
        classes = "SELECT priority FROM outbox WHERE dedupe_key = ?"
        assert [(await conn.execute_fetchall(classes, (row[0],)))[0][0] for row in queued] == [3, 3, 4]
        # a held figure's receipt may name no incident; 0011's rules hold for every other row
        await conn.execute(
            insert.replace("'t1', 't1')", "'t2', 't2')"), ("tanda_terima:x", "tanda_terima", None, None, None)
        )
        for wrong in (
            ("posting:x", "posting", None, None, None),  # an incident's row names its incident
            ("siaran:2:100", "siaran", None, None, None),  # a broadcast's row names its broadcast
            ("pengingat_hitung:x", "pengingat_hitung", 1, "51.03.01", None),  # a reminder of no incident
            ("pengingat_hitung:y", "pengingat_hitung", None, None, None),  # ... names its kecamatan
            ("tanda_terima:y", "tanda_terima", 1, None, 1),  # only a broadcast's rows name one
        ):
            with pytest.raises(sqlite3.IntegrityError):
                await conn.execute(insert, wrong)
        for action in ("tolak", "buka", "siaran", "ditolak"):
            await conn.execute("INSERT INTO audit_log (at, action, target) VALUES ('t2', ?, 'x')", (action,))
        actions = await conn.execute_fetchall("SELECT action FROM audit_log ORDER BY id")
        assert [r[0] for r in actions] == ["siaran", "tolak", "buka", "siaran", "ditolak"]

        # 0010's triggers and index, kept by 0014's rebuild: a rejected report gives way to the
        # previous one of its kecamatan × jenis and no longer holds it open; reopened, it counts again
        await conn.execute(rekap, (2, "baru", 18, 2, "t2", "t2", "t2", None))
        state = "SELECT desa_done, incident_id FROM recap_state WHERE region_code = '51.03.01' AND jenis = 'dpr'"
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(18, 2)]
        with pytest.raises(sqlite3.IntegrityError):  # one open incident per kecamatan × jenis
            await conn.execute(rekap, (9, "baru", 13, 9, "t3", "t3", "t3", None))
        await conn.execute("UPDATE incidents SET status = 'ditolak', resolved_at = 't3' WHERE id = 2")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(12, 1)]
        await conn.execute(rekap, (3, "baru", 13, 3, "t4", "t4", "t4", None))
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(13, 3)]
        await conn.execute("UPDATE incidents SET status = 'ditolak', resolved_at = 't5' WHERE id = 3")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(12, 1)]
        await conn.execute("UPDATE incidents SET status = 'baru', resolved_at = NULL WHERE id = 2")
        assert [tuple(r) for r in await conn.execute_fetchall(state)] == [(18, 2)]

        # 0016's classes as rows are queued: a kritis incident's post and its taker's reminder go
        # first, the reporter's notices and a broadcast's outcome to its sender with other notices
        await conn.execute("UPDATE incidents SET severity = 'kritis' WHERE id = 1")
        later = [
            ("posting:1", "posting", 1, None, None, 1),
            ("pengingat:1:2", "pengingat", 1, None, None, 1),
            ("ditolak:1", "ditolak", 1, None, None, 3),
            ("dibuka:1", "dibuka", 1, None, None, 3),
            ("pelapor:1", "pelapor", 1, None, None, 3),
            ("pengingat_hitung:51.03.01:t9:100", "pengingat_hitung", None, "51.03.01", None, 3),
            ("siaran_selesai:1", "siaran_selesai", None, None, 1, 3),
            ("siaran:1:101", "siaran", None, None, 1, 4),
        ]
        await conn.executemany(insert, [row[:5] for row in later])
        assert [(await conn.execute_fetchall(classes, (row[0],)))[0][0] for row in later] == [r[5] for r in later]
        assert await conn.execute_fetchall("PRAGMA foreign_key_check") == []
    finally:
        await conn.close()
