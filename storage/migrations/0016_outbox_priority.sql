-- Which notification goes first when Telegram's ~30 messages/s are not enough for everything
-- waiting (a flood of reports): the outbox is sent by class, then by age.
--   1: a kritis/tinggi incident's group post, its edits, its resolution notice, and the reminder
--      to whoever took it ('pengingat');
--   2: a report's receipt ('tanda_terima');
--   3: any other notification: a rendah/sedang incident's post, edits and reminders, the reporter
--      told their report is resolved, rejected or reopened ('pelapor', 'ditolak', 'dibuka'), a
--      petugas reminded to report the count ('pengingat_hitung'), and the sender of a broadcast
--      told it has reached everyone ('siaran_selesai': one message, not the broadcast itself);
--   4: the broadcast's own rows ('siaran'), one per recipient.
-- Answers to commands (not in the outbox) go before all of them, and scheduled digests (not in
-- the outbox either) with the broadcasts; see bot/telegram/rate_limit.py.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 4);

-- Every row is classed as it is written, whoever writes it (the services, or the schema's own
-- receipt trigger in 0013): the incident's severity as it is when the row is queued.
CREATE TRIGGER outbox_priority AFTER INSERT ON outbox
BEGIN
    UPDATE outbox SET priority = CASE
        WHEN NEW.purpose = 'tanda_terima' THEN 2
        WHEN NEW.purpose = 'siaran' THEN 4
        WHEN NEW.purpose IN ('posting', 'edit', 'selesai', 'pengingat')
             AND (SELECT severity FROM incidents WHERE id = NEW.incident_id) IN ('kritis', 'tinggi') THEN 1
        ELSE 3
    END
    WHERE id = NEW.id;
END;

UPDATE outbox SET priority = CASE
    WHEN purpose = 'tanda_terima' THEN 2
    WHEN purpose = 'siaran' THEN 4
    WHEN purpose IN ('posting', 'edit', 'selesai', 'pengingat')
         AND (SELECT severity FROM incidents WHERE incidents.id = outbox.incident_id) IN ('kritis', 'tinggi') THEN 1
    ELSE 3
END
WHERE sent_at IS NULL AND failed_at IS NULL;

DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox(priority, next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
-- a chat's own due rows (all of an officer's waiting receipts make one message)
CREATE INDEX outbox_pending_chat ON outbox(chat_id, priority, next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
