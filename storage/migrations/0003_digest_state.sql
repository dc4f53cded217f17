-- Digest state: the current figures per region, kept up to date by triggers on `incidents`, so
-- a digest reads a few thousand state rows instead of ranking a million reports.
--
-- Reports are cumulative ("received so far"): the latest report per region (and item) is the
-- current state. "Latest" is by the message's own time (`reported_at`), then by id, so an older
-- message delivered late never rolls the state back. Report figures are never updated after
-- insertion (the lifecycle changes only status, assignment and escalation columns); a deleted
-- report is replaced by the latest remaining one.

-- Latest logistik report per region and item.
CREATE TABLE logistics_state (
    region_code TEXT NOT NULL,
    item        TEXT NOT NULL,
    received    INTEGER NOT NULL,
    planned     INTEGER,           -- the plan written in the report, if any
    damaged     INTEGER NOT NULL,
    reported_at TEXT NOT NULL,
    incident_id INTEGER NOT NULL,
    PRIMARY KEY (region_code, item)
) WITHOUT ROWID;

-- Latest rekap report per region.
CREATE TABLE counting_state (
    region_code TEXT PRIMARY KEY,
    tps_done    INTEGER NOT NULL,
    tps_total   INTEGER NOT NULL,
    sirekap     INTEGER,
    reported_at TEXT NOT NULL,
    incident_id INTEGER NOT NULL
) WITHOUT ROWID;

-- The newest report of any kind per region (by the message's own time): silent regions.
CREATE TABLE region_activity (
    region_code    TEXT PRIMARY KEY,
    last_report_at TEXT NOT NULL
) WITHOUT ROWID;

-- Backfill from the reports already stored.
INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
SELECT region_code, item, received, planned, damaged, reported_at, id FROM (
    SELECT region_code, item, received, planned, damaged, reported_at, id,
           row_number() OVER (PARTITION BY region_code, item ORDER BY reported_at DESC, id DESC) AS rn
      FROM incidents WHERE kind = 'logistik')
 WHERE rn = 1;

INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
SELECT region_code, tps_done, tps_total, sirekap, reported_at, id FROM (
    SELECT region_code, tps_done, tps_total, sirekap, reported_at, id,
           row_number() OVER (PARTITION BY region_code ORDER BY reported_at DESC, id DESC) AS rn
      FROM incidents WHERE kind = 'rekap')
 WHERE rn = 1;

INSERT INTO region_activity (region_code, last_report_at)
SELECT region_code, max(reported_at) FROM incidents GROUP BY region_code;

-- Keep them current.
CREATE TRIGGER incidents_logistics_state AFTER INSERT ON incidents
WHEN NEW.kind = 'logistik'
BEGIN
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.item, NEW.received, NEW.planned, NEW.damaged, NEW.reported_at, NEW.id)
    ON CONFLICT (region_code, item) DO UPDATE SET
        received = excluded.received, planned = excluded.planned, damaged = excluded.damaged,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (logistics_state.reported_at, logistics_state.incident_id);
END;

CREATE TRIGGER incidents_counting_state AFTER INSERT ON incidents
WHEN NEW.kind = 'rekap'
BEGIN
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    VALUES (NEW.region_code, NEW.tps_done, NEW.tps_total, NEW.sirekap, NEW.reported_at, NEW.id)
    ON CONFLICT (region_code) DO UPDATE SET
        tps_done = excluded.tps_done, tps_total = excluded.tps_total, sirekap = excluded.sirekap,
        reported_at = excluded.reported_at, incident_id = excluded.incident_id
     WHERE (excluded.reported_at, excluded.incident_id) > (counting_state.reported_at, counting_state.incident_id);
END;

CREATE TRIGGER incidents_region_activity AFTER INSERT ON incidents
BEGIN
    INSERT INTO region_activity (region_code, last_report_at) VALUES (NEW.region_code, NEW.reported_at)
    ON CONFLICT (region_code) DO UPDATE SET last_report_at = excluded.last_report_at
     WHERE excluded.last_report_at > region_activity.last_report_at;
END;

-- A deleted report (not something the bot does; a repair by hand) hands the state to the latest
-- remaining one.
CREATE TRIGGER incidents_logistics_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'logistik'
BEGIN
    DELETE FROM logistics_state
     WHERE region_code = OLD.region_code AND item = OLD.item AND incident_id = OLD.id;
    INSERT INTO logistics_state (region_code, item, received, planned, damaged, reported_at, incident_id)
    SELECT region_code, item, received, planned, damaged, reported_at, id FROM incidents
     WHERE kind = 'logistik' AND region_code = OLD.region_code AND item = OLD.item
       AND NOT EXISTS (SELECT 1 FROM logistics_state s WHERE s.region_code = OLD.region_code AND s.item = OLD.item)
     ORDER BY reported_at DESC, id DESC LIMIT 1;
END;

CREATE TRIGGER incidents_counting_state_delete AFTER DELETE ON incidents
WHEN OLD.kind = 'rekap'
BEGIN
    DELETE FROM counting_state WHERE region_code = OLD.region_code AND incident_id = OLD.id;
    INSERT INTO counting_state (region_code, tps_done, tps_total, sirekap, reported_at, incident_id)
    SELECT region_code, tps_done, tps_total, sirekap, reported_at, id FROM incidents
     WHERE kind = 'rekap' AND region_code = OLD.region_code
       AND NOT EXISTS (SELECT 1 FROM counting_state s WHERE s.region_code = OLD.region_code)
     ORDER BY reported_at DESC, id DESC LIMIT 1;
END;

CREATE TRIGGER incidents_region_activity_delete AFTER DELETE ON incidents
BEGIN
    DELETE FROM region_activity WHERE region_code = OLD.region_code;
    INSERT INTO region_activity (region_code, last_report_at)
    SELECT region_code, max(reported_at) FROM incidents WHERE region_code = OLD.region_code GROUP BY region_code;
END;

-- Incident counts by status, kind and severity for every scope an incident lies in: its region and
-- each ancestor (kecamatan, kabupaten/kota, province, "ID"), so a digest reads ≤ 48 rows instead of
-- counting its whole subtree. Kept by triggers on insert, on a change of status, kind, severity or
-- region, and on delete.
CREATE TABLE incident_tally (
    scope    TEXT NOT NULL,
    status   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    severity TEXT NOT NULL,
    n        INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (scope, status, kind, severity)
) WITHOUT ROWID;

INSERT INTO incident_tally (scope, status, kind, severity, n)
SELECT scope, status, kind, severity, count(*) FROM (
    SELECT region_code AS scope, status, kind, severity FROM incidents
    UNION ALL SELECT substr(region_code, 1, 8), status, kind, severity FROM incidents WHERE length(region_code) > 8
    UNION ALL SELECT substr(region_code, 1, 5), status, kind, severity FROM incidents WHERE length(region_code) > 5
    UNION ALL SELECT substr(region_code, 1, 2), status, kind, severity FROM incidents WHERE length(region_code) > 2
    UNION ALL SELECT 'ID', status, kind, severity FROM incidents WHERE region_code <> 'ID')
 GROUP BY scope, status, kind, severity;

CREATE TRIGGER incidents_tally_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_tally (scope, status, kind, severity, n)
    SELECT scope, NEW.status, NEW.kind, NEW.severity, 1
      FROM (SELECT NEW.region_code AS scope UNION SELECT substr(NEW.region_code, 1, 8)
            UNION SELECT substr(NEW.region_code, 1, 5) UNION SELECT substr(NEW.region_code, 1, 2) UNION SELECT 'ID')
     WHERE true
    ON CONFLICT (scope, status, kind, severity) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER incidents_tally_update AFTER UPDATE OF status, kind, severity, region_code ON incidents
WHEN OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind OR OLD.severity IS NOT NEW.severity
     OR OLD.region_code IS NOT NEW.region_code
BEGIN
    UPDATE incident_tally SET n = n - 1
     WHERE status = OLD.status AND kind = OLD.kind AND severity = OLD.severity
       AND scope IN (OLD.region_code, substr(OLD.region_code, 1, 8), substr(OLD.region_code, 1, 5),
                     substr(OLD.region_code, 1, 2), 'ID');
    INSERT INTO incident_tally (scope, status, kind, severity, n)
    SELECT scope, NEW.status, NEW.kind, NEW.severity, 1
      FROM (SELECT NEW.region_code AS scope UNION SELECT substr(NEW.region_code, 1, 8)
            UNION SELECT substr(NEW.region_code, 1, 5) UNION SELECT substr(NEW.region_code, 1, 2) UNION SELECT 'ID')
     WHERE true
    ON CONFLICT (scope, status, kind, severity) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER incidents_tally_delete AFTER DELETE ON incidents
BEGIN
    UPDATE incident_tally SET n = n - 1
     WHERE status = OLD.status AND kind = OLD.kind AND severity = OLD.severity
       AND scope IN (OLD.region_code, substr(OLD.region_code, 1, 8), substr(OLD.region_code, 1, 5),
                     substr(OLD.region_code, 1, 2), 'ID');
END;

-- Escalations (by hand or automatic) with the escalated incident's region, kind and severity, so
-- "escalated in the last 24 hours" reads one compact index range instead of looking up each
-- incident. One row per escalation event; a digest counts distinct incidents.
CREATE TABLE incident_escalations (
    event_id    INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL,
    at          TEXT NOT NULL,
    region_code TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL
);
CREATE INDEX incident_escalations_window ON incident_escalations(at, region_code, kind, severity, incident_id);

INSERT INTO incident_escalations (event_id, incident_id, at, region_code, kind, severity)
SELECT e.id, e.incident_id, e.at, i.region_code, i.kind, i.severity
  FROM incident_events e JOIN incidents i ON i.id = e.incident_id
 WHERE e.action IN ('eskalasi', 'eskalasi_otomatis');

CREATE TRIGGER incident_events_escalation AFTER INSERT ON incident_events
WHEN NEW.action IN ('eskalasi', 'eskalasi_otomatis')
BEGIN
    INSERT INTO incident_escalations (event_id, incident_id, at, region_code, kind, severity)
    SELECT NEW.id, NEW.incident_id, NEW.at, i.region_code, i.kind, i.severity FROM incidents i
     WHERE i.id = NEW.incident_id;
END;

CREATE TRIGGER incident_events_escalation_delete AFTER DELETE ON incident_events
WHEN OLD.action IN ('eskalasi', 'eskalasi_otomatis')
BEGIN
    DELETE FROM incident_escalations WHERE event_id = OLD.id;
END;

CREATE TRIGGER incidents_escalation_follow AFTER UPDATE OF kind, severity, region_code ON incidents
WHEN OLD.kind IS NOT NEW.kind OR OLD.severity IS NOT NEW.severity OR OLD.region_code IS NOT NEW.region_code
BEGIN
    UPDATE incident_escalations SET region_code = NEW.region_code, kind = NEW.kind, severity = NEW.severity
     WHERE incident_id = NEW.id;
END;

-- Window queries of the digest (the last 24 hours), covering so they never touch the table: the
-- whole country reads the window's range; a subtree seeks the window in each of its regions.
CREATE INDEX incidents_received_window ON incidents(received_at, region_code, kind, severity, status);
CREATE INDEX incidents_region_received ON incidents(region_code, received_at, kind, severity);
CREATE INDEX incidents_resolved_window ON incidents(resolved_at, region_code, kind, severity, received_at)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_taken_window ON incidents(taken_at, region_code, received_at) WHERE taken_at IS NOT NULL;
CREATE INDEX incident_escalations_incident ON incident_escalations(incident_id);
-- Open tinggi/kritis incidents per region, oldest first (the whole country uses incidents_open).
CREATE INDEX incidents_open_urgent ON incidents(region_code, received_at)
    WHERE status IN ('baru', 'ditangani') AND severity IN ('tinggi', 'kritis');
