-- Look-ups by reporter, now that a stateful report (logistik, hitung, rekap) updates its open
-- incident in place (0007) instead of making a new one:
-- * a report sent again within the repeat window (issue 12) is answered with the first one's
--   receipt, looked for among the kept reports: by reporter and time;
-- * a file sent without a caption is offered to the incidents the sender reported on last (opened
--   or updated), read from their 'lapor' and 'laporan' events.
CREATE INDEX incident_reports_reporter ON incident_reports(reporter_id, received_at);
CREATE INDEX incident_events_actor ON incident_events(actor_id, id);
