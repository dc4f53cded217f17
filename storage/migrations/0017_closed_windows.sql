-- The digest's windows of resolution and taking carry the status, so that counting the resolved
-- apart from the rejected (issue 13's 'ditolak'), and the medians that leave rejections out,
-- read the index alone. Without it a kabupaten's digest looked up every incident resolved in the
-- country that day (1,000,000 incidents: 0.4 s a digest, 552 of them at 07:00).
DROP INDEX incidents_resolved_window;
CREATE INDEX incidents_resolved_window ON incidents(resolved_at, region_code, kind, severity, status, received_at)
    WHERE resolved_at IS NOT NULL;
DROP INDEX incidents_taken_window;
CREATE INDEX incidents_taken_window ON incidents(taken_at, region_code, status, received_at)
    WHERE taken_at IS NOT NULL;
