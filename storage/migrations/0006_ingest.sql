-- Creating an incident is one statement: its 'lapor' audit event and its processed update are
-- written by the schema, atomically with the row. No incident can exist without its first event,
-- and a report costs one round trip to the database instead of five. A report always arrives as
-- 'baru'; later changes are the lifecycle's events.
CREATE TRIGGER incidents_lapor_event AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_events (incident_id, at, actor_id, action, from_status, to_status, region_code)
    VALUES (NEW.id, NEW.received_at, NEW.reporter_id, 'lapor', NULL, 'baru', NEW.region_code);
END;

CREATE TRIGGER incidents_processed_update AFTER INSERT ON incidents
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT INTO processed_updates (update_id, incident_id, processed_at)
    VALUES (NEW.update_id, NEW.id, NEW.received_at);
END;
