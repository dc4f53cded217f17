-- Follow-through (issue 13): counting silence chased by phase, and /siaran broadcasts. Both send
-- private messages through the outbox, which so far only carried an incident's notifications.
--
-- * `outbox` gets two kinds of row without an incident: 'pengingat_hitung' (a petugas reminded
--   that their kecamatan sent no counting report; region_code is the kecamatan, note the time of
--   its last counting report or '') and 'siaran' (one recipient of a broadcast, broadcast_id set);
--   and 'siaran_selesai', the sender's "terkirim ke n pengguna" once every recipient's row is done.
--   Broadcast rows are a kind of their own so delivery can class them behind answers and alerts.
-- * `broadcasts`: one row per /siaran (the text, who sent it, the scope), audited in audit_log
--   (its CHECK learns the action 'siaran': rebuilt at the end).
-- * `silence_reminders`: one row per kecamatan reminded, written in the transaction that queues
--   the reminders, so a restart never reminds a kecamatan twice within one period.
--
-- SQLite cannot change a CHECK constraint or drop NOT NULL in place: `outbox` is rebuilt, every
-- row and its index kept (no other table refers to it).

-- migrate: foreign keys off while tables are rebuilt

CREATE TABLE broadcasts (
    id             INTEGER PRIMARY KEY,
    sender_id      INTEGER NOT NULL REFERENCES users(telegram_id),
    sender_chat_id INTEGER NOT NULL,           -- where the sender is told the outcome
    region_code    TEXT NOT NULL,              -- the scope: a region code, or 'ID' for everywhere
    text           TEXT NOT NULL CHECK (length(text) > 0),
    recipients     INTEGER NOT NULL CHECK (recipients >= 0),
    created_at     TEXT NOT NULL,
    finished_at    TEXT                        -- every recipient's row sent or given up
);

CREATE TABLE outbox_0010 AS SELECT * FROM outbox;
DROP TABLE outbox;
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('posting', 'selesai', 'pelapor', 'edit',
                                                     'pengingat', 'ditolak', 'dibuka',
                                                     'pengingat_hitung', 'siaran', 'siaran_selesai')),
    incident_id     INTEGER REFERENCES incidents(id),
    chat_id         INTEGER NOT NULL,
    thread_id       INTEGER,
    message_id      INTEGER,            -- for edits: the message to edit
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
    CHECK ((incident_id IS NULL) = (purpose IN ('pengingat_hitung', 'siaran', 'siaran_selesai'))),
    CHECK ((broadcast_id IS NOT NULL) = (purpose IN ('siaran', 'siaran_selesai'))),
    CHECK (purpose <> 'pengingat_hitung' OR region_code IS NOT NULL)
);
INSERT INTO outbox (id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note,
                    created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error)
SELECT id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note,
       created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error
  FROM outbox_0010;
DROP TABLE outbox_0010;
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
-- a broadcast's rows, to count them and to tell when the last one is done
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, purpose) WHERE broadcast_id IS NOT NULL;

CREATE TABLE silence_reminders (
    region_code  TEXT NOT NULL REFERENCES regions(code),  -- the kecamatan
    reminded_at  TEXT NOT NULL,
    silent_since TEXT NOT NULL,          -- its last counting report, or when counting began
    recipients   INTEGER NOT NULL CHECK (recipients > 0),
    PRIMARY KEY (region_code, reminded_at)
) WITHOUT ROWID;

-- The audit trail learns the action 'siaran' (who broadcast what to whom): its CHECK is widened
-- by rebuilding it, every row and its index kept (no other table refers to it).
CREATE TABLE audit_log_0010 AS SELECT * FROM audit_log;
DROP TABLE audit_log;
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,  -- NULL: the command line or the bot itself
    action   TEXT NOT NULL CHECK (action IN (
                 'undang', 'registrasi', 'cabut', 'grup_daftar', 'grup_hapus',
                 'jadwal', 'impor', 'bootstrap_admin', 'tolak', 'buka', 'siaran')),
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
INSERT INTO audit_log (id, at, actor_id, action, target, detail)
SELECT id, at, actor_id, action, target, detail FROM audit_log_0010;
DROP TABLE audit_log_0010;
CREATE INDEX audit_log_at ON audit_log(at);
