-- Receipts go through the outbox like group notifications: written in the same transaction as
-- the report they confirm, sent after the report's processing slot is free, retried with backoff
-- until Telegram takes them. A 'tanda_terima' row's message_id is the reporter's message it
-- answers (NULL in a private chat); note 'ubah' edits that message instead (the guided flow's
-- confirmation), note 'duplikat' says the report was already stored. A receipt that says more
-- than "stored as #N" (a later report updating an open incident, a figure held for Benar/Batal, a
-- repeat within minutes, a message of several reports) carries what it says as JSON in `detail`
-- (`bot.services.reporting.receipt_rows`); a held figure with no incident open has no incident_id.
-- A cumulative report's receipt keeps its figures there too ("figures").
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt, ids kept, with every
-- purpose, column, CHECK and index 0010 and 0011 gave it (reminders, rejection notices,
-- broadcasts: the rows of no incident keep their rule; a receipt may have no incident too).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('posting', 'selesai', 'pelapor', 'edit',
                                                     'pengingat', 'ditolak', 'dibuka',
                                                     'pengingat_hitung', 'siaran', 'siaran_selesai',
                                                     'tanda_terima')),
    -- NULL: a row of no incident (0011: silence reminders, broadcasts) or a receipt of a held figure
    incident_id     INTEGER REFERENCES incidents(id),
    chat_id         INTEGER NOT NULL,
    thread_id       INTEGER,
    message_id      INTEGER,            -- edits: the message to edit; receipts: the message answered
    region_code     TEXT REFERENCES regions(code),  -- postings: the group's region; reminders: the kecamatan
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    sent_message_id INTEGER,
    failed_at       TEXT,               -- gave up (e.g. the bot was removed from the chat, or blocked)
    last_error      TEXT,
    broadcast_id    INTEGER REFERENCES broadcasts(id),
    detail          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    CHECK (purpose = 'tanda_terima'
           OR (incident_id IS NULL) = (purpose IN ('pengingat_hitung', 'siaran', 'siaran_selesai'))),
    CHECK ((broadcast_id IS NOT NULL) = (purpose IN ('siaran', 'siaran_selesai'))),
    CHECK (purpose <> 'pengingat_hitung' OR region_code IS NOT NULL)
);
INSERT INTO outbox_new (id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note,
    created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error, broadcast_id)
SELECT id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note,
    created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error, broadcast_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
-- a broadcast's rows, to count them and to tell when the last one is done (as in 0011)
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, purpose) WHERE broadcast_id IS NOT NULL;

-- A report's receipt is written by the schema with the report, like its first event (0006): the
-- common report stays one statement, so concurrent reports share a commit. In a group the receipt
-- answers the report's message; in private it is a message of its own, or, for the guided flow
-- (payload tanda_terima = 'ubah'), the confirmation edited into it. A report whose receipt says
-- more (payload tanda_terima = 'sendiri') has it queued by the service instead. The key is the one
-- `bot.services.reporting.Source.key` gives a repeat of the same update, so a replay adds nothing.
CREATE TRIGGER incidents_receipt AFTER INSERT ON incidents
WHEN json_extract(NEW.payload, '$.tanda_terima') IS NOT 'sendiri'
BEGIN
    INSERT OR IGNORE INTO outbox (dedupe_key, purpose, incident_id, chat_id, message_id, note, created_at,
        next_attempt_at, detail)
    VALUES (
        'tanda_terima:' || NEW.id || ':' || NEW.source_chat_id || ':' || NEW.source_message_id || ':'
            || coalesce(NEW.update_id, ''),
        'tanda_terima', NEW.id, NEW.source_chat_id,
        CASE WHEN NEW.source_chat_id < 0 OR json_extract(NEW.payload, '$.tanda_terima') = 'ubah'
             THEN NEW.source_message_id END,
        CASE WHEN json_extract(NEW.payload, '$.tanda_terima') = 'ubah' THEN 'ubah' ELSE '' END,
        NEW.received_at, NEW.received_at,
        -- cumulative figures as reported: the receipt restates them even if a later report has
        -- updated the incident in place before it could be sent
        CASE WHEN NEW.kind IN ('logistik', 'hitung', 'rekap') THEN json_object('figures', json_object(
            'received', NEW.received, 'planned', NEW.planned, 'damaged', NEW.damaged, 'tps_done', NEW.tps_done,
            'tps_total', NEW.tps_total, 'sirekap', NEW.sirekap, 'desa_done', NEW.desa_done,
            'desa_total', NEW.desa_total)) ELSE '{}' END
    );
END;
