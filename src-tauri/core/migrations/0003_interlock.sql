-- 0003: interlock status mapping on webhooks, auto-lock per service, the audit log of interlock
-- commands, pending auto-locks (so they survive a restart) and the last status reading.

ALTER TABLE webhooks ADD COLUMN status_pointer TEXT NOT NULL DEFAULT '/status';
ALTER TABLE webhooks ADD COLUMN status_locked TEXT NOT NULL DEFAULT '"locked"';     -- a JSON value
ALTER TABLE webhooks ADD COLUMN status_unlocked TEXT NOT NULL DEFAULT '"unlocked"'; -- a JSON value

ALTER TABLE services ADD COLUMN auto_lock INTEGER NOT NULL DEFAULT 0 CHECK (auto_lock IN (0, 1));

CREATE TABLE interlock_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    account_id   TEXT NOT NULL,
    username     TEXT NOT NULL,
    role         TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    service_name TEXT NOT NULL,
    event_id     TEXT,
    action       TEXT NOT NULL CHECK (action IN ('lock', 'unlock', 'status', 'auto_lock')),
    result       TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'refused')),
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX interlock_audit_by_time ON interlock_audit(at DESC);

CREATE TABLE auto_locks (
    service_id TEXT PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
    event_id   TEXT,
    due_at     INTEGER NOT NULL
);

CREATE TABLE interlock_state (
    service_id TEXT PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('locked', 'unlocked', 'unknown')),
    read_at    INTEGER NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
