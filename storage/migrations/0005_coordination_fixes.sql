-- Coordination fixes.
--
-- An automatic escalation that finds no level above (the incident stays where it is and keeps
-- waiting) is written to the history as `eskalasi_otomatis` so people see why nothing moved, but
-- it is not an escalation: the digest counts only escalation events that moved the incident to
-- another region. An event's `region_code` is the region the incident is handled at after it;
-- the one before is that of its previous event (attachments excepted: they carry the region the
-- incident was reported in). An event without a region (not written by the bot) counts as before.

DROP TRIGGER incident_events_escalation;

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

-- The ones counted before this fix.
DELETE FROM incident_escalations
 WHERE event_id IN (
    SELECT e.id FROM incident_events e
     WHERE e.action IN ('eskalasi', 'eskalasi_otomatis') AND e.region_code IS NOT NULL
       AND e.region_code IS (
            SELECT p.region_code FROM incident_events p
             WHERE p.incident_id = e.incident_id AND p.id < e.id AND p.action <> 'lampiran'
             ORDER BY p.id DESC LIMIT 1));
