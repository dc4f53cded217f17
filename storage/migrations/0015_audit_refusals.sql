-- rebuilds: audit_log
-- Refusals are audited too: a press on a forged button, a command of a user outside the region,
-- an invite above one's role, a group taken over from a region outside one's scope, an invite
-- already used. action 'ditolak' (0010's 'tolak' and 'buka' and 0011's 'siaran' kept); target: what
-- was aimed at; detail: the attempt and the reason.
CREATE TABLE audit_log_new (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,  -- NULL: the command line or the bot itself
    action   TEXT NOT NULL CHECK (action IN (
                 'undang', 'registrasi', 'cabut', 'grup_daftar', 'grup_hapus',
                 'jadwal', 'impor', 'bootstrap_admin', 'tolak', 'buka', 'siaran', 'ditolak')),
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
INSERT INTO audit_log_new (id, at, actor_id, action, target, detail)
SELECT id, at, actor_id, action, target, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
