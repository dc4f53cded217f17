-- Foundation schema. Times are UTC ISO-8601 text ("2024-02-14T00:00:00.000000+00:00").
-- What must never be false is enforced here: foreign keys, CHECK on enumerations, UNIQUE keys.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY CHECK (code = 'ID' OR code GLOB '[0-9][0-9]*'),
    parent_code TEXT REFERENCES regions(code),
    level       TEXT NOT NULL CHECK (level IN ('nasional', 'provinsi', 'kabkota', 'kecamatan')),
    kind        TEXT NOT NULL CHECK (kind IN ('Negara', 'Provinsi', 'Kabupaten', 'Kota', 'Kecamatan')),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    search_name TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_code);
CREATE INDEX regions_search ON regions(search_name);

CREATE TABLE region_aliases (
    region_code  TEXT NOT NULL REFERENCES regions(code) ON DELETE CASCADE,
    alias        TEXT NOT NULL,
    search_alias TEXT NOT NULL,
    PRIMARY KEY (region_code, search_alias)
);
CREATE INDEX region_aliases_search ON region_aliases(search_alias);

CREATE TABLE users (
    telegram_id   INTEGER PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('petugas', 'koordinator', 'komisioner', 'admin')),
    region_code   TEXT NOT NULL REFERENCES regions(code),
    full_name     TEXT NOT NULL,
    username      TEXT,
    invited_by    INTEGER REFERENCES users(telegram_id),
    registered_at TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    INTEGER REFERENCES users(telegram_id),  -- NULL with revoked_at: the command line
    CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
);
CREATE INDEX users_region ON users(region_code);

-- Invite codes are stored only as SHA-256 hashes: a copy of the database gives no usable link.
CREATE TABLE invites (
    code_hash   TEXT PRIMARY KEY CHECK (length(code_hash) = 64),
    role        TEXT NOT NULL CHECK (role IN ('petugas', 'koordinator', 'komisioner', 'admin')),
    region_code TEXT NOT NULL REFERENCES regions(code),
    created_by  INTEGER REFERENCES users(telegram_id),  -- NULL: minted on the command line
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL CHECK (expires_at > created_at),
    used_by     INTEGER REFERENCES users(telegram_id),
    used_at     TEXT,
    CHECK ((used_by IS NULL) = (used_at IS NULL))
);

-- Coordination groups: one group per region; a chat coordinates one region.
CREATE TABLE groups (
    chat_id       INTEGER PRIMARY KEY CHECK (chat_id < 0),
    region_code   TEXT NOT NULL UNIQUE REFERENCES regions(code),
    thread_id     INTEGER,
    title         TEXT NOT NULL DEFAULT '',
    registered_by INTEGER NOT NULL REFERENCES users(telegram_id),
    registered_at TEXT NOT NULL
);

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('logistik', 'data', 'rekap', 'insiden')),
    severity          TEXT NOT NULL CHECK (severity IN ('rendah', 'sedang', 'tinggi', 'kritis')),
    status            TEXT NOT NULL DEFAULT 'baru' CHECK (status IN ('baru', 'ditangani', 'selesai')),
    region_code       TEXT NOT NULL REFERENCES regions(code),
    reporter_id       INTEGER NOT NULL REFERENCES users(telegram_id),
    -- typed figures for SQL aggregates; which ones are set depends on the kind (CHECKs below)
    item              TEXT,      -- logistik: barang; data: jenis masalah
    received          INTEGER CHECK (received >= 0),
    planned           INTEGER CHECK (planned >= 0),
    damaged           INTEGER CHECK (damaged >= 0),
    data_count        INTEGER CHECK (data_count >= 0),
    tps_done          INTEGER CHECK (tps_done >= 0),
    tps_total         INTEGER CHECK (tps_total > 0),
    sirekap           INTEGER CHECK (sirekap >= 0),
    description       TEXT NOT NULL DEFAULT '',
    payload           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    update_id         INTEGER UNIQUE,
    reported_at       TEXT NOT NULL,   -- the message's own time
    received_at       TEXT NOT NULL,   -- when the bot processed it
    handling_region   TEXT NOT NULL REFERENCES regions(code),  -- where it sits after escalations
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    assignee_id       INTEGER REFERENCES users(telegram_id),
    taken_at          TEXT,
    resolved_at       TEXT,
    UNIQUE (source_chat_id, source_message_id),
    CHECK (kind <> 'logistik' OR (item IS NOT NULL AND received IS NOT NULL AND damaged IS NOT NULL)),
    CHECK (kind <> 'data' OR (item IS NOT NULL AND data_count IS NOT NULL)),
    CHECK (kind <> 'rekap' OR (tps_done IS NOT NULL AND tps_total IS NOT NULL AND tps_done <= tps_total)),
    CHECK (status <> 'selesai' OR resolved_at IS NOT NULL),
    CHECK (status = 'baru' OR taken_at IS NOT NULL OR status = 'selesai')
);
CREATE INDEX incidents_region_time ON incidents(region_code, reported_at);
CREATE INDEX incidents_kind_region_item ON incidents(kind, region_code, item, reported_at);
CREATE INDEX incidents_open ON incidents(status, severity, received_at);
CREATE INDEX incidents_reporter ON incidents(reporter_id, id);

-- The audit trail of incidents: every change writes one row, in the same transaction.
CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users(telegram_id),  -- NULL: the bot itself (automatic)
    action      TEXT NOT NULL CHECK (action IN (
                    'lapor', 'tangani', 'eskalasi', 'eskalasi_otomatis', 'selesai', 'catatan', 'lampiran')),
    from_status TEXT CHECK (from_status IN ('baru', 'ditangani', 'selesai')),
    to_status   TEXT CHECK (to_status IN ('baru', 'ditangani', 'selesai')),
    region_code TEXT REFERENCES regions(code),
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    kind           TEXT NOT NULL CHECK (kind IN ('foto', 'dokumen', 'lokasi')),
    file_id        TEXT,
    file_unique_id TEXT,
    file_name      TEXT,
    mime_type      TEXT,
    file_size      INTEGER,
    width          INTEGER,
    height         INTEGER,
    latitude       REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude      REAL CHECK (longitude BETWEEN -180 AND 180),
    chat_id        INTEGER NOT NULL,
    message_id     INTEGER NOT NULL,
    added_by       INTEGER NOT NULL REFERENCES users(telegram_id),
    added_at       TEXT NOT NULL,
    UNIQUE (chat_id, message_id),
    CHECK ((kind = 'lokasi') = (latitude IS NOT NULL AND longitude IS NOT NULL)),
    CHECK (kind = 'lokasi' OR file_id IS NOT NULL)
);
CREATE INDEX attachments_incident ON attachments(incident_id);

-- Digest schedules: one row per chat and local time.
CREATE TABLE schedules (
    chat_id     INTEGER NOT NULL,
    at_time     TEXT NOT NULL CHECK (at_time GLOB '[0-2][0-9]:[0-5][0-9]' AND at_time < '24:00'),
    region_code TEXT NOT NULL REFERENCES regions(code),
    thread_id   INTEGER,
    created_by  INTEGER REFERENCES users(telegram_id),
    created_at  TEXT NOT NULL,
    last_run_at TEXT,
    PRIMARY KEY (chat_id, at_time)
);

-- Idempotency: an update that was processed once is answered from here, never processed twice.
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    incident_id  INTEGER REFERENCES incidents(id),
    processed_at TEXT NOT NULL
);

-- The audit trail of everything that is not an incident change.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,  -- NULL: the command line or the bot itself
    action   TEXT NOT NULL CHECK (action IN (
                 'undang', 'registrasi', 'cabut', 'grup_daftar', 'grup_hapus',
                 'jadwal', 'impor', 'bootstrap_admin')),
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
