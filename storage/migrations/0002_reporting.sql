-- Reporting: which bot messages speak of which incident (receipts, group posts), and baselines.

-- A reply to one of these messages (a photo, a document, a location) attaches to its incident;
-- group posts are edited when the incident changes.
CREATE TABLE incident_messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('tanda_terima', 'notifikasi')),
    region_code TEXT REFERENCES regions(code),  -- for notifications: the group's region
    thread_id   INTEGER,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX incident_messages_incident ON incident_messages(incident_id);

-- Logistics plan: expected quantity per kecamatan (or any region) and item.
CREATE TABLE logistics_plan (
    region_code TEXT NOT NULL REFERENCES regions(code),
    item        TEXT NOT NULL CHECK (item IN ('kotak_suara', 'bilik_suara', 'surat_suara', 'tinta', 'segel',
                                              'formulir', 'sampul', 'alat_bantu_tunanetra')),
    quantity    INTEGER NOT NULL CHECK (quantity >= 0),
    imported_at TEXT NOT NULL,
    PRIMARY KEY (region_code, item)
);

-- Counting baseline: number of TPS per kecamatan (or desa).
CREATE TABLE tps_baseline (
    region_code TEXT PRIMARY KEY REFERENCES regions(code),
    tps_count   INTEGER NOT NULL CHECK (tps_count >= 0),
    imported_at TEXT NOT NULL
);

