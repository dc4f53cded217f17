-- Coordination: when an incident started waiting at its current level, and the notification outbox.

-- An incident waits to be taken from the moment it arrives at a level (reported, or escalated):
-- automatic escalation measures from here, so a restart neither loses nor repeats one.
ALTER TABLE incidents ADD COLUMN awaiting_since TEXT;
UPDATE incidents SET awaiting_since = received_at WHERE status = 'baru';
CREATE INDEX incidents_awaiting ON incidents(status, severity, awaiting_since);

-- Transactional outbox: written in the same transaction as the change it announces, sent by a
-- worker that retries with backoff; a failed notification is never lost silently.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('posting', 'selesai', 'pelapor', 'edit')),
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    chat_id         INTEGER NOT NULL,
    thread_id       INTEGER,
    message_id      INTEGER,            -- for edits: the message to edit
    region_code     TEXT REFERENCES regions(code),  -- for postings: the group's region
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    sent_message_id INTEGER,
    failed_at       TEXT,               -- gave up (e.g. the bot was removed from the chat)
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
