-- Follow-through (issue 13): a rejected report ('ditolak') leaves the figures, reminders of taken
-- incidents and the private notices of a rejection go through the outbox.
--
-- * A rejected incident is closed: it no longer holds its kecamatan × item open, so the next
--   report opens a new incident (the partial UNIQUE index leaves out 'ditolak' as it does
--   'selesai').
-- * The state tables (logistics_state, counting_state, recap_state: the latest report per
--   kecamatan and item / jenis) never show a rejected incident's figures. When an incident is
--   rejected, its row gives way to the latest figures of the incidents of that kecamatan × item
--   that are not rejected (the previous report becomes current again; none: the row is gone, as
--   if it had never been reported); when a rejected incident is reopened, its figures count again
--   if they are the latest. The delete triggers of 0007 skip rejected incidents the same way.
-- * The audit trail takes the actions 'tolak' and 'buka' (rebuilt like the outbox).
-- * The outbox carries three more purposes: 'pengingat' (a reminder to the one who took an
--   incident), 'ditolak' and 'dibuka' (the reporter told that their report was rejected, or
--   counted again). SQLite cannot change a CHECK in place, so the outbox is rebuilt (nothing
--   references it).

-- migrate: foreign keys off while tables are rebuilt

DROP INDEX incidents_one_open_state;
CREATE UNIQUE INDEX incidents_one_open_state ON incidents(kind, region_code, coalesce(item, ''))
    WHERE status NOT IN ('selesai', 'ditolak') AND kind IN ('logistik', 'hitung', 'rekap');

-- --- rejected and reopened: the state tables follow ------------------------------------------------
CREATE TRIGGER incidents_logistics_state_rejected AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'logistik' AND NEW.status = 'ditolak' AND OLD.status <> 'ditolak'
BEGIN
    DELETE FROM logistics_state WHERE region_code = NEW.region_code AND item = NEW.item AND incident_id = NEW.id;
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    SELECT region_code, item, received, planned, damaged, last_reported_at, id FROM incidents
     WHERE kind = 'logistik' AND region_code = NEW.region_code AND item = NEW.item AND status <> 'ditolak'
       AND NOT EXISTS (SELECT 1 FROM logistics_state s WHERE s.region_code = NEW.region_code AND s.item = NEW.item)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
CREATE TRIGGER incidents_logistics_state_reopened AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'logistik' AND OLD.status = 'ditolak' AND NEW.status <> 'ditolak'
BEGIN
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.received, NEW.planned, NEW.damaged, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, item) DO UPDATE SET
        received = excluded.received, planned = excluded.planned, damaged = excluded.damaged,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (logistics_state.reported_at, logistics_state.incident_id);
END;
CREATE TRIGGER incidents_counting_state_rejected AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'hitung' AND NEW.status = 'ditolak' AND OLD.status <> 'ditolak'
BEGIN
    DELETE FROM counting_state WHERE region_code = NEW.region_code AND incident_id = NEW.id;
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    SELECT region_code, tps_done, tps_total, sirekap, last_reported_at, id FROM incidents
     WHERE kind = 'hitung' AND region_code = NEW.region_code AND status <> 'ditolak'
       AND NOT EXISTS (SELECT 1 FROM counting_state s WHERE s.region_code = NEW.region_code)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
CREATE TRIGGER incidents_counting_state_reopened AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'hitung' AND OLD.status = 'ditolak' AND NEW.status <> 'ditolak'
BEGIN
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.tps_done, NEW.tps_total, NEW.sirekap, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code) DO UPDATE SET
        tps_done = excluded.tps_done, tps_total = excluded.tps_total, sirekap = excluded.sirekap,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (counting_state.reported_at, counting_state.incident_id);
END;
CREATE TRIGGER incidents_recap_state_rejected AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'rekap' AND NEW.status = 'ditolak' AND OLD.status <> 'ditolak'
BEGIN
    DELETE FROM recap_state WHERE region_code = NEW.region_code AND jenis = NEW.item AND incident_id = NEW.id;
    INSERT INTO recap_state (region_code, jenis, desa_done, desa_total, reported_at, incident_id)
    SELECT region_code, item, desa_done, desa_total, last_reported_at, id FROM incidents
     WHERE kind = 'rekap' AND region_code = NEW.region_code AND item = NEW.item AND status <> 'ditolak'
       AND NOT EXISTS (SELECT 1 FROM recap_state s WHERE s.region_code = NEW.region_code AND s.jenis = NEW.item)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
CREATE TRIGGER incidents_recap_state_reopened AFTER UPDATE OF status ON incidents
WHEN NEW.kind = 'rekap' AND OLD.status = 'ditolak' AND NEW.status <> 'ditolak'
BEGIN
    INSERT INTO recap_state (region_code, jenis, desa_done, desa_total, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.desa_done, NEW.desa_total, NEW.last_reported_at, NEW.id)
    ON CONFLICT (region_code, jenis) DO UPDATE SET
        desa_done = excluded.desa_done, desa_total = excluded.desa_total,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (recap_state.reported_at, recap_state.incident_id);
END;

-- --- a deleted incident gives way to the latest one not rejected (0007's, with that one term) -------
DROP TRIGGER incidents_logistics_state_delete;
CREATE TRIGGER incidents_logistics_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'logistik'
BEGIN
    DELETE FROM logistics_state
     WHERE region_code = OLD.region_code AND item = OLD.item AND incident_id = OLD.id;
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    SELECT region_code, item, received, planned, damaged, last_reported_at, id FROM incidents
     WHERE kind = 'logistik' AND region_code = OLD.region_code AND item = OLD.item AND status <> 'ditolak'
       AND NOT EXISTS (SELECT 1 FROM logistics_state s WHERE s.region_code = OLD.region_code AND s.item = OLD.item)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;
DROP TRIGGER incidents_counting_state_delete;
CREATE TRIGGER incidents_counting_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'hitung'
BEGIN
    DELETE FROM counting_state WHERE region_code = OLD.region_code AND incident_id = OLD.id;
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    SELECT region_code, tps_done, tps_total, sirekap, last_reported_at, id FROM incidents
     WHERE kind = 'hitung' AND region_code = OLD.region_code AND status <> 'ditolak'
       AND NOT EXISTS (SELECT 1 FROM counting_state s WHERE s.region_code = OLD.region_code)
     ORDER BY last_reported_at DESC, id DESC LIMIT 1;
END;

-- --- outbox: reminders and the reporter's notices of a rejection or reopening ----------------------
CREATE TABLE outbox_0010 (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('posting', 'selesai', 'pelapor', 'edit',
                                                     'pengingat', 'ditolak', 'dibuka')),
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
INSERT INTO outbox_0010 (id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note, created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error) SELECT id, dedupe_key, purpose, incident_id, chat_id, thread_id, message_id, region_code, note, created_at, attempts, next_attempt_at, sent_at, sent_message_id, failed_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_0010 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- --- audit trail: a rejection and a reopening are written there too (who, when, why) ----------------
CREATE TABLE audit_log_0010 (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,  -- NULL: the command line or the bot itself
    action   TEXT NOT NULL CHECK (action IN (
                 'undang', 'registrasi', 'cabut', 'grup_daftar', 'grup_hapus',
                 'jadwal', 'impor', 'bootstrap_admin', 'tolak', 'buka')),
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
INSERT INTO audit_log_0010 (id, at, actor_id, action, target, detail)
SELECT id, at, actor_id, action, target, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_0010 RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
