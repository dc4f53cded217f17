-- rebuilds: incidents
-- Duplicate detection that cannot swallow a new report. A report was "already stored" when its
-- chat and message id, or its update id, matched a stored one — neither tied to the bot: after a
-- token for another bot (its message ids start again in the same private chats) or Telegram
-- restarting its update ids, a new report was answered "sudah tercatat" and dropped. Now a report
-- is the same one only when the same bot received the same message with the same content;
-- reports stored before this migration keep bot_id 0 ("not known") and never match a new one.
-- The update id is kept for the record, without a UNIQUE key (the update journal, keyed on the
-- bot, the update id and its content, makes a replay harmless).
CREATE TABLE incidents_new (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('logistik', 'data', 'rekap', 'insiden')),
    severity          TEXT NOT NULL CHECK (severity IN ('rendah', 'sedang', 'tinggi', 'kritis')),
    status            TEXT NOT NULL DEFAULT 'baru' CHECK (status IN ('baru', 'ditangani', 'selesai')),
    region_code       TEXT NOT NULL REFERENCES regions(code),
    reporter_id       INTEGER NOT NULL REFERENCES users(telegram_id),
    -- typed figures for SQL aggregates; which ones are set depends on the kind (CHECKs below)
    item              TEXT,      -- logistik: barang; data: jenis masalah
    received          INTEGER CHECK (received >= 0),
    planned           INTEGER CHECK (planned >= 0),
    damaged           INTEGER CHECK (damaged >= 0),
    data_count        INTEGER CHECK (data_count >= 0),
    tps_done          INTEGER CHECK (tps_done >= 0),
    tps_total         INTEGER CHECK (tps_total > 0),
    sirekap           INTEGER CHECK (sirekap >= 0),
    description       TEXT NOT NULL DEFAULT '',
    payload           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    bot_id            INTEGER NOT NULL DEFAULT 0,  -- the bot that received it (0: before 0009)
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    update_id         INTEGER,
    reported_at       TEXT NOT NULL,   -- the message's own time
    received_at       TEXT NOT NULL,   -- when the bot processed it
    handling_region   TEXT NOT NULL REFERENCES regions(code),  -- where it sits after escalations
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    assignee_id       INTEGER REFERENCES users(telegram_id),
    taken_at          TEXT,
    resolved_at       TEXT,
    awaiting_since    TEXT,
    -- what the report says, as stored: part of its identity
    content_key       TEXT GENERATED ALWAYS AS (
        kind || char(31) || region_code || char(31) || reporter_id || char(31) || coalesce(item, '')
        || char(31) || coalesce(received, '') || char(31) || coalesce(planned, '') || char(31)
        || coalesce(damaged, '') || char(31) || coalesce(data_count, '') || char(31) || coalesce(tps_done, '')
        || char(31) || coalesce(tps_total, '') || char(31) || coalesce(sirekap, '') || char(31) || description
    ) VIRTUAL,
    UNIQUE (bot_id, source_chat_id, source_message_id, content_key),
    CHECK (kind <> 'logistik' OR (item IS NOT NULL AND received IS NOT NULL AND damaged IS NOT NULL)),
    CHECK (kind <> 'data' OR (item IS NOT NULL AND data_count IS NOT NULL)),
    CHECK (kind <> 'rekap' OR (tps_done IS NOT NULL AND tps_total IS NOT NULL AND tps_done <= tps_total)),
    CHECK (status <> 'selesai' OR resolved_at IS NOT NULL),
    CHECK (status = 'baru' OR taken_at IS NOT NULL OR status = 'selesai')
);
INSERT INTO incidents_new (id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged,
    data_count, tps_done, tps_total, sirekap, description, payload, source_chat_id, source_message_id, update_id,
    reported_at, received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since)
SELECT id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged,
    data_count, tps_done, tps_total, sirekap, description, payload, source_chat_id, source_message_id, update_id,
    reported_at, received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since
FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_new RENAME TO incidents;

-- Which update made which incident, for the record: keyed on the incident, the update named with
-- its bot (an update id alone is not unique across bots or after Telegram restarts its ids).
CREATE TABLE processed_updates_new (
    incident_id  INTEGER PRIMARY KEY REFERENCES incidents(id),
    bot_id       INTEGER NOT NULL DEFAULT 0,
    update_id    INTEGER NOT NULL,
    processed_at TEXT NOT NULL
);
INSERT INTO processed_updates_new (incident_id, update_id, processed_at)
SELECT incident_id, update_id, processed_at FROM processed_updates WHERE incident_id IS NOT NULL;
DROP TABLE processed_updates;
ALTER TABLE processed_updates_new RENAME TO processed_updates;
CREATE INDEX processed_updates_update ON processed_updates(bot_id, update_id);

CREATE TRIGGER incidents_processed_update AFTER INSERT ON incidents
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT INTO processed_updates (incident_id, bot_id, update_id, processed_at)
    VALUES (NEW.id, NEW.bot_id, NEW.update_id, NEW.received_at);
END;
