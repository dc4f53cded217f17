-- Follow-through (issue 13): a report can be rejected ('ditolak': a misread or duplicate report,
-- out of every count, its figures no longer current) and reopened. Actions of the incident
-- history for it: 'tolak', 'buka'; and for reminders of taken incidents: 'pengingat' (the one
-- who took it was reminded) and 'belum_diperbarui' (its cards say nobody has updated it).
-- A rejected incident is closed like a resolved one (resolved_at is when it was rejected).
--
-- SQLite cannot change a CHECK constraint in place, so `incidents` and `incident_events` are
-- rebuilt as in 0007: with legacy_alter_table on, renaming the old table leaves the foreign keys
-- and trigger bodies of other tables naming "incidents", which is the new table once it exists.
-- Every index and trigger of both tables is created again, unchanged.

-- migrate: foreign keys off while tables are rebuilt
PRAGMA legacy_alter_table = ON;

ALTER TABLE incidents RENAME TO incidents_0008;
CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('logistik', 'data', 'hitung', 'rekap', 'insiden')),
    severity          TEXT NOT NULL CHECK (severity IN ('rendah', 'sedang', 'tinggi', 'kritis')),
    status            TEXT NOT NULL DEFAULT 'baru' CHECK (status IN ('baru', 'ditangani', 'selesai', 'ditolak')),
    region_code       TEXT NOT NULL REFERENCES regions(code),
    reporter_id       INTEGER NOT NULL REFERENCES users(telegram_id),
    -- typed figures for SQL aggregates; which ones are set depends on the kind (CHECKs below)
    item              TEXT,      -- logistik: barang; data: jenis masalah; rekap: jenis pemilihan
    received          INTEGER CHECK (received >= 0),
    planned           INTEGER CHECK (planned >= 0),   -- kebutuhan
    damaged           INTEGER CHECK (damaged >= 0),
    data_count        INTEGER CHECK (data_count >= 0),
    tps_done          INTEGER CHECK (tps_done >= 0),
    tps_total         INTEGER CHECK (tps_total > 0),
    sirekap           INTEGER CHECK (sirekap >= 0),
    desa_done         INTEGER CHECK (desa_done >= 0),
    desa_total        INTEGER CHECK (desa_total > 0),
    description       TEXT NOT NULL DEFAULT '',
    payload           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    update_id         INTEGER UNIQUE,
    reported_at       TEXT NOT NULL,   -- the first message's own time
    received_at       TEXT NOT NULL,   -- when the bot processed it
    handling_region   TEXT NOT NULL REFERENCES regions(code),  -- where it sits after escalations
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    assignee_id       INTEGER REFERENCES users(telegram_id),
    taken_at          TEXT,
    resolved_at       TEXT,
    awaiting_since    TEXT,
    last_reported_at  TEXT NOT NULL,   -- the message time of the report whose figures it shows
    UNIQUE (source_chat_id, source_message_id),
    CHECK (kind <> 'logistik' OR (item IS NOT NULL AND received IS NOT NULL AND damaged IS NOT NULL)),
    CHECK (kind <> 'data' OR (item IS NOT NULL AND data_count IS NOT NULL)),
    CHECK (kind <> 'hitung' OR (tps_done IS NOT NULL AND tps_total IS NOT NULL AND tps_done <= tps_total)),
    CHECK (sirekap IS NULL OR (tps_done IS NOT NULL AND sirekap <= tps_done)),
    CHECK (kind <> 'rekap' OR (item IN ('ppwp', 'dpr', 'dpd', 'dprd_prov', 'dprd_kabkota')
                               AND desa_done IS NOT NULL AND desa_total IS NOT NULL AND desa_done <= desa_total)),
    CHECK (status NOT IN ('selesai', 'ditolak') OR resolved_at IS NOT NULL),
    CHECK (status IN ('baru', 'selesai', 'ditolak') OR taken_at IS NOT NULL)
);
INSERT INTO incidents (id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged, data_count, tps_done, tps_total, sirekap, desa_done, desa_total, description, payload, source_chat_id, source_message_id, update_id, reported_at, received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since, last_reported_at) SELECT id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged, data_count, tps_done, tps_total, sirekap, desa_done, desa_total, description, payload, source_chat_id, source_message_id, update_id, reported_at, received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since, last_reported_at FROM incidents_0008;

ALTER TABLE incident_events RENAME TO incident_events_0008;
CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users(telegram_id),  -- NULL: the bot itself (automatic)
    action      TEXT NOT NULL CHECK (action IN (
                    'lapor', 'laporan', 'tangani', 'eskalasi', 'eskalasi_otomatis', 'selesai', 'selesai_otomatis',
                    'prioritas', 'catatan', 'lampiran',
                    'tolak', 'buka', 'pengingat', 'belum_diperbarui')),
    from_status TEXT CHECK (from_status IN ('baru', 'ditangani', 'selesai', 'ditolak')),
    to_status   TEXT CHECK (to_status IN ('baru', 'ditangani', 'selesai', 'ditolak')),
    region_code TEXT REFERENCES regions(code),
    note        TEXT NOT NULL DEFAULT ''
);
INSERT INTO incident_events (id, incident_id, at, actor_id, action, from_status, to_status, region_code, note) SELECT id, incident_id, at, actor_id, action, from_status, to_status, region_code, note FROM incident_events_0008;
DROP TABLE incident_events_0008;
DROP TABLE incidents_0008;

CREATE INDEX incident_events_incident ON incident_events(incident_id, id);
CREATE INDEX incidents_region_time ON incidents(region_code, reported_at);
CREATE INDEX incidents_kind_region_item ON incidents(kind, region_code, item, reported_at);
CREATE INDEX incidents_open ON incidents(status, severity, received_at);
CREATE INDEX incidents_reporter ON incidents(reporter_id, id);
CREATE INDEX incidents_awaiting ON incidents(status, severity, awaiting_since);
CREATE INDEX incidents_received_window ON incidents(received_at, region_code, kind, severity, status);
CREATE INDEX incidents_region_received ON incidents(region_code, received_at, kind, severity);
CREATE INDEX incidents_resolved_window ON incidents(resolved_at, region_code, kind, severity, received_at)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_taken_window ON incidents(taken_at, region_code, received_at) WHERE taken_at IS NOT NULL;
CREATE INDEX incidents_open_urgent ON incidents(region_code, received_at)
    WHERE status IN ('baru', 'ditangani') AND severity IN ('tinggi', 'kritis');
CREATE INDEX incidents_urgent_order ON incidents(severity, received_at)
    WHERE status IN ('baru', 'ditangani') AND severity IN ('tinggi', 'kritis');
CREATE UNIQUE INDEX incidents_one_open_state ON incidents(kind, region_code, coalesce(item, ''))
    WHERE status <> 'selesai' AND kind IN ('logistik', 'hitung', 'rekap');
CREATE INDEX incident_events_actor ON incident_events(actor_id, id);
CREATE TRIGGER incidents_logistics_state AFTER INSERT ON incidents
WHEN NEW.kind = 'logistik'
BEGIN
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.received, NEW.planned, NEW.damaged, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, item) DO UPDATE SET
        received = excluded.received, planned = excluded.planned, damaged = excluded.damaged,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (logistics_state.reported_at, logistics_state.incident_id);
END;
CREATE TRIGGER incidents_logistics_state_update AFTER UPDATE OF received, planned, damaged, last_reported_at ON incidents
WHEN NEW.kind = 'logistik'
BEGIN
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.received, NEW.planned, NEW.damaged, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, item) DO UPDATE SET
        received = excluded.received, planned = excluded.planned, damaged = excluded.damaged,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) >= (logistics_state.reported_at, logistics_state.incident_id)
        OR logistics_state.incident_id = excluded.incident_id;
END;
CREATE TRIGGER incidents_counting_state AFTER INSERT ON incidents
WHEN NEW.kind = 'hitung'
BEGIN
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.tps_done, NEW.tps_total, NEW.sirekap, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code) DO UPDATE SET
        tps_done = excluded.tps_done, tps_total = excluded.tps_total, sirekap = excluded.sirekap,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (counting_state.reported_at, counting_state.incident_id);
END;
CREATE TRIGGER incidents_counting_state_update AFTER UPDATE OF tps_done, tps_total, sirekap, last_reported_at ON incidents
WHEN NEW.kind = 'hitung'
BEGIN
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.tps_done, NEW.tps_total, NEW.sirekap, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code) DO UPDATE SET
        tps_done = excluded.tps_done, tps_total = excluded.tps_total, sirekap = excluded.sirekap,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) >= (counting_state.reported_at, counting_state.incident_id)
        OR counting_state.incident_id = excluded.incident_id;
END;
CREATE TRIGGER incidents_recap_state AFTER INSERT ON incidents
WHEN NEW.kind = 'rekap'
BEGIN
    INSERT INTO recap_state (region_code, jenis, desa_done, desa_total, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.desa_done, NEW.desa_total, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, jenis) DO UPDATE SET
        desa_done = excluded.desa_done, desa_total = excluded.desa_total,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (recap_state.reported_at, recap_state.incident_id);
END;
CREATE TRIGGER incidents_recap_state_update AFTER UPDATE OF desa_done, desa_total, last_reported_at ON incidents
WHEN NEW.kind = 'rekap'
BEGIN
    INSERT INTO recap_state (region_code, jenis, desa_done, desa_total, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.desa_done, NEW.desa_total, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, jenis) DO UPDATE SET
        desa_done = excluded.desa_done, desa_total = excluded.desa_total,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) >= (recap_state.reported_at, recap_state.incident_id)
        OR recap_state.incident_id = excluded.incident_id;
END;
CREATE TRIGGER incidents_region_activity AFTER INSERT ON incidents
BEGIN
    INSERT INTO region_activity (region_code, last_report_at) VALUES (NEW.region_code, NEW.reported_at)
    ON CONFLICT (region_code) DO UPDATE SET last_report_at = excluded.last_report_at
     WHERE excluded.last_report_at > region_activity.last_report_at;
END;
CREATE TRIGGER incidents_logistics_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'logistik'
BEGIN
    DELETE FROM logistics_state
     WHERE region_code = OLD.region_code AND item = OLD.item AND incident_id = OLD.id;
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    SELECT region_code, item, received, planned, damaged, last_reported_at, id FROM incidents
     WHERE kind = 'logistik' AND region_code = OLD.region_code AND item = OLD.item
       AND NOT EXISTS (SELECT 1 FROM logistics_state s WHERE s.region_code = OLD.region_code AND s.item = OLD.item)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
CREATE TRIGGER incidents_counting_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'hitung'
BEGIN
    DELETE FROM counting_state WHERE region_code = OLD.region_code AND incident_id = OLD.id;
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    SELECT region_code, tps_done, tps_total, sirekap, last_reported_at, id FROM incidents
     WHERE kind = 'hitung' AND region_code = OLD.region_code
       AND NOT EXISTS (SELECT 1 FROM counting_state s WHERE s.region_code = OLD.region_code)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
CREATE TRIGGER incidents_recap_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'rekap'
BEGIN
    DELETE FROM recap_state WHERE region_code = OLD.region_code AND jenis = OLD.item AND incident_id = OLD.id;
END;
CREATE TRIGGER incidents_region_activity_delete AFTER DELETE ON incidents
BEGIN
    DELETE FROM region_activity WHERE region_code = OLD.region_code;
    INSERT INTO region_activity (region_code, last_report_at)
    SELECT region_code, max(reported_at) FROM incidents WHERE region_code = OLD.region_code GROUP BY region_code;
END;
CREATE TRIGGER incidents_tally_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_tally (scope, status, kind, severity, n)
    SELECT scope, NEW.status, NEW.kind, NEW.severity, 1
      FROM (SELECT NEW.region_code AS scope UNION SELECT substr(NEW.region_code, 1, 8)
            UNION SELECT substr(NEW.region_code, 1, 5) UNION SELECT substr(NEW.region_code, 1, 2) UNION SELECT 'ID')
     WHERE true
    ON CONFLICT (scope, status, kind, severity) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incidents_tally_update AFTER UPDATE OF status, kind, severity, region_code ON incidents
WHEN OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind OR OLD.severity IS NOT NEW.severity
     OR OLD.region_code IS NOT NEW.region_code
BEGIN
    UPDATE incident_tally SET n = n - 1
     WHERE status = OLD.status AND kind = OLD.kind AND severity = OLD.severity
       AND scope IN (OLD.region_code, substr(OLD.region_code, 1, 8), substr(OLD.region_code, 1, 5),
                     substr(OLD.region_code, 1, 2), 'ID');
    INSERT INTO incident_tally (scope, status, kind, severity, n)
    SELECT scope, NEW.status, NEW.kind, NEW.severity, 1
      FROM (SELECT NEW.region_code AS scope UNION SELECT substr(NEW.region_code, 1, 8)
            UNION SELECT substr(NEW.region_code, 1, 5) UNION SELECT substr(NEW.region_code, 1, 2) UNION SELECT 'ID')
     WHERE true
    ON CONFLICT (scope, status, kind, severity) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incidents_tally_delete AFTER DELETE ON incidents
BEGIN
    UPDATE incident_tally SET n = n - 1
     WHERE status = OLD.status AND kind = OLD.kind AND severity = OLD.severity
       AND scope IN (OLD.region_code, substr(OLD.region_code, 1, 8), substr(OLD.region_code, 1, 5),
                     substr(OLD.region_code, 1, 2), 'ID');
END;
CREATE TRIGGER incidents_escalation_follow AFTER UPDATE OF kind, severity, region_code ON incidents
WHEN OLD.kind IS NOT NEW.kind OR OLD.severity IS NOT NEW.severity OR OLD.region_code IS NOT NEW.region_code
BEGIN
    UPDATE incident_escalations SET region_code = NEW.region_code, kind = NEW.kind, severity = NEW.severity
     WHERE incident_id = NEW.id;
END;
CREATE TRIGGER incidents_lapor_event AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_events (incident_id, at, actor_id, action, from_status, to_status, region_code)
    VALUES (NEW.id, NEW.received_at, NEW.reporter_id, 'lapor', NULL, 'baru', NEW.region_code);
END;
CREATE TRIGGER incidents_processed_update AFTER INSERT ON incidents
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO processed_updates (update_id, incident_id, processed_at)
    VALUES (NEW.update_id, NEW.id, NEW.received_at);
END;
CREATE TRIGGER incident_events_escalation AFTER INSERT ON incident_events
WHEN NEW.action IN ('eskalasi', 'eskalasi_otomatis')
 AND (NEW.region_code IS NULL OR NEW.region_code IS NOT (
        SELECT p.region_code FROM incident_events p
         WHERE p.incident_id = NEW.incident_id AND p.id < NEW.id AND p.action <> 'lampiran'
         ORDER BY p.id DESC LIMIT 1))
BEGIN
    INSERT INTO incident_escalations (event_id, incident_id, at, region_code, kind, severity)
    SELECT NEW.id, NEW.incident_id, NEW.at, i.region_code, i.kind, i.severity FROM incidents i
     WHERE i.id = NEW.incident_id;
END;
CREATE TRIGGER incident_events_escalation_delete AFTER DELETE ON incident_events
WHEN OLD.action IN ('eskalasi', 'eskalasi_otomatis')
BEGIN
    DELETE FROM incident_escalations WHERE event_id = OLD.id;
END;

PRAGMA legacy_alter_table = OFF;
