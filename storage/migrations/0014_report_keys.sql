-- rebuilds: incidents
-- rebuilds: incident_reports
-- rebuilds: processed_updates
-- Duplicate detection that cannot swallow a new report. A report was "already stored" when its
-- chat and message id, or its update id, matched a stored one — neither tied to the bot: after a
-- token for another bot (its message ids start again in the same private chats) or Telegram
-- restarting its update ids, a new report was answered "sudah tercatat" and dropped. Now a report
-- is the same one only when the same bot received the same message with the same content, in
-- `incidents` (a report that opened an incident) and in `incident_reports` (every report of a
-- stateful incident: the first, later ones updating it in place, figures held for Benar/Batal)
-- alike; reports stored before this migration keep bot_id 0 ("not known") and never match a new
-- one. The update id is kept for the record, without a UNIQUE key (the update journal, keyed on
-- the bot, the update id and its content, makes a replay harmless).
--
-- The tables are rebuilt with every column, CHECK, index and trigger they had after 0011 (the
-- runner keeps the indexes and triggers, see `storage.db.REBUILDS`); only the keys change.
CREATE TABLE incidents_new (
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
    bot_id            INTEGER NOT NULL DEFAULT 0,  -- the bot that received it (0: before 0014)
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    update_id         INTEGER,
    reported_at       TEXT NOT NULL,   -- the first message's own time
    received_at       TEXT NOT NULL,   -- when the bot processed it
    handling_region   TEXT NOT NULL REFERENCES regions(code),  -- where it sits after escalations
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    assignee_id       INTEGER REFERENCES users(telegram_id),
    taken_at          TEXT,
    resolved_at       TEXT,
    awaiting_since    TEXT,
    last_reported_at  TEXT NOT NULL,   -- the message time of the report whose figures it shows
    -- what the report says, as stored: part of its identity (a later report updating the figures
    -- in place is kept in incident_reports under its own message)
    content_key       TEXT GENERATED ALWAYS AS (
        kind || char(31) || region_code || char(31) || reporter_id || char(31) || coalesce(item, '')
        || char(31) || coalesce(received, '') || char(31) || coalesce(planned, '') || char(31)
        || coalesce(damaged, '') || char(31) || coalesce(data_count, '') || char(31) || coalesce(tps_done, '')
        || char(31) || coalesce(tps_total, '') || char(31) || coalesce(sirekap, '') || char(31)
        || coalesce(desa_done, '') || char(31) || coalesce(desa_total, '') || char(31) || description
    ) VIRTUAL,
    UNIQUE (bot_id, source_chat_id, source_message_id, content_key),
    CHECK (kind <> 'logistik' OR (item IS NOT NULL AND received IS NOT NULL AND damaged IS NOT NULL)),
    CHECK (kind <> 'data' OR (item IS NOT NULL AND data_count IS NOT NULL)),
    CHECK (kind <> 'hitung' OR (tps_done IS NOT NULL AND tps_total IS NOT NULL AND tps_done <= tps_total)),
    CHECK (sirekap IS NULL OR (tps_done IS NOT NULL AND sirekap <= tps_done)),
    CHECK (kind <> 'rekap' OR (item IN ('ppwp', 'dpr', 'dpd', 'dprd_prov', 'dprd_kabkota')
                               AND desa_done IS NOT NULL AND desa_total IS NOT NULL AND desa_done <= desa_total)),
    CHECK (status NOT IN ('selesai', 'ditolak') OR resolved_at IS NOT NULL),
    CHECK (status IN ('baru', 'selesai', 'ditolak') OR taken_at IS NOT NULL)
);
INSERT INTO incidents_new (id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged,
    data_count, tps_done, tps_total, sirekap, desa_done, desa_total, description, payload, source_chat_id,
    source_message_id, update_id, reported_at, received_at, handling_region, escalations, assignee_id, taken_at,
    resolved_at, awaiting_since, last_reported_at)
SELECT id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged,
    data_count, tps_done, tps_total, sirekap, desa_done, desa_total, description, payload, source_chat_id,
    source_message_id, update_id, reported_at, received_at, handling_region, escalations, assignee_id, taken_at,
    resolved_at, awaiting_since, last_reported_at
FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_new RENAME TO incidents;

CREATE TABLE incident_reports_new (
    id                INTEGER PRIMARY KEY,
    incident_id       INTEGER REFERENCES incidents(id),  -- NULL: waiting, and no incident was open
    kind              TEXT NOT NULL CHECK (kind IN ('logistik', 'hitung', 'rekap')),
    region_code       TEXT NOT NULL REFERENCES regions(code),
    item              TEXT,
    received          INTEGER CHECK (received >= 0),
    planned           INTEGER CHECK (planned >= 0),
    damaged           INTEGER CHECK (damaged >= 0),
    tps_done          INTEGER CHECK (tps_done >= 0),
    tps_total         INTEGER CHECK (tps_total > 0),
    sirekap           INTEGER CHECK (sirekap >= 0),
    desa_done         INTEGER CHECK (desa_done >= 0),
    desa_total        INTEGER CHECK (desa_total > 0),
    description       TEXT NOT NULL DEFAULT '',
    reporter_id       INTEGER NOT NULL REFERENCES users(telegram_id),
    bot_id            INTEGER NOT NULL DEFAULT 0,  -- the bot that received it (0: before 0014)
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    update_id         INTEGER,
    reported_at       TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'berlaku' CHECK (state IN ('berlaku', 'menunggu', 'batal')),
    decided_at        TEXT,
    content_key       TEXT GENERATED ALWAYS AS (
        kind || char(31) || region_code || char(31) || reporter_id || char(31) || coalesce(item, '')
        || char(31) || coalesce(received, '') || char(31) || coalesce(planned, '') || char(31)
        || coalesce(damaged, '') || char(31) || coalesce(tps_done, '') || char(31) || coalesce(tps_total, '')
        || char(31) || coalesce(sirekap, '') || char(31) || coalesce(desa_done, '') || char(31)
        || coalesce(desa_total, '') || char(31) || description
    ) VIRTUAL,
    UNIQUE (bot_id, source_chat_id, source_message_id, content_key),
    CHECK (state = 'menunggu' OR incident_id IS NOT NULL OR state = 'batal'),
    CHECK ((state = 'menunggu') = (decided_at IS NULL))
);
INSERT INTO incident_reports_new (id, incident_id, kind, region_code, item, received, planned, damaged, tps_done,
    tps_total, sirekap, desa_done, desa_total, description, reporter_id, source_chat_id, source_message_id,
    update_id, reported_at, received_at, state, decided_at)
SELECT id, incident_id, kind, region_code, item, received, planned, damaged, tps_done,
    tps_total, sirekap, desa_done, desa_total, description, reporter_id, source_chat_id, source_message_id,
    update_id, reported_at, received_at, state, decided_at
FROM incident_reports;
DROP TABLE incident_reports;
ALTER TABLE incident_reports_new RENAME TO incident_reports;

-- Which update made which incident or report, for the record: the update named with its bot (an
-- update id alone is not unique across bots or after Telegram restarts its ids), no key refusing
-- a row (the record never decides whether a report is new).
CREATE TABLE processed_updates_new (
    id           INTEGER PRIMARY KEY,
    bot_id       INTEGER NOT NULL DEFAULT 0,
    update_id    INTEGER NOT NULL,
    incident_id  INTEGER REFERENCES incidents(id),
    processed_at TEXT NOT NULL
);
INSERT INTO processed_updates_new (update_id, incident_id, processed_at)
SELECT update_id, incident_id, processed_at FROM processed_updates ORDER BY update_id;
DROP TABLE processed_updates;
ALTER TABLE processed_updates_new RENAME TO processed_updates;
CREATE INDEX processed_updates_update ON processed_updates(bot_id, update_id);
CREATE INDEX processed_updates_incident ON processed_updates(incident_id) WHERE incident_id IS NOT NULL;

-- The two triggers that record processed updates now name the bot (the others are kept as they were).
CREATE TRIGGER incidents_processed_update AFTER INSERT ON incidents
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT INTO processed_updates (bot_id, update_id, incident_id, processed_at)
    VALUES (NEW.bot_id, NEW.update_id, NEW.id, NEW.received_at);
END;

CREATE TRIGGER incident_reports_processed_update AFTER INSERT ON incident_reports
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT INTO processed_updates (bot_id, update_id, incident_id, processed_at)
    VALUES (NEW.bot_id, NEW.update_id, NEW.incident_id, NEW.received_at);
END;
