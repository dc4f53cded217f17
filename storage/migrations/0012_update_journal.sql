-- Durable intake: every update is written here before Telegram is told it was received (the
-- getUpdates offset moves past it, or the webhook answers 200), and marked done once processed.
-- After a crash the rows without done_at are processed again, in the order they arrived.
-- An update is the same one only when the same bot received the same id with the same content:
-- a token for another bot, or Telegram restarting its update ids, never makes a new update look
-- like one already seen.
CREATE TABLE update_journal (
    seq         INTEGER PRIMARY KEY,
    bot_id      INTEGER NOT NULL,
    update_id   INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    received_at TEXT NOT NULL,
    done_at     TEXT,
    UNIQUE (bot_id, update_id, digest)
);
CREATE INDEX update_journal_pending ON update_journal(bot_id, seq) WHERE done_at IS NULL;
CREATE INDEX update_journal_done ON update_journal(done_at) WHERE done_at IS NOT NULL;
