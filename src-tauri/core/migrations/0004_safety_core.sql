-- 0004: an auto-lock stays pending until its lock is confirmed (attempts, next try, last error,
-- when a person was last told), and the audit log records what happened to pending auto-locks
-- (handed over, re-timed, cancelled, dismissed) besides lock, unlock and status commands.

ALTER TABLE auto_locks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auto_locks ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE auto_locks ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE auto_locks ADD COLUMN last_notified_at INTEGER;

CREATE TABLE interlock_audit_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    account_id   TEXT NOT NULL,
    username     TEXT NOT NULL,
    role         TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    service_name TEXT NOT NULL,
    event_id     TEXT,
    action       TEXT NOT NULL CHECK (action IN ('lock', 'unlock', 'status', 'auto_lock')),
    result       TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'refused', 'handed_over',
                                                 'retimed', 'cancelled', 'dismissed')),
    reason       TEXT NOT NULL DEFAULT '',
    -- The booking as it was when the entry was written (it may be edited or deleted later).
    booking      TEXT NOT NULL DEFAULT ''
);
INSERT INTO interlock_audit_new (id, at, account_id, username, role, service_id, service_name,
                                 event_id, action, result, reason)
    SELECT id, at, account_id, username, role, service_id, service_name, event_id, action, result,
           reason
    FROM interlock_audit;
DROP TABLE interlock_audit;
ALTER TABLE interlock_audit_new RENAME TO interlock_audit;
CREATE INDEX interlock_audit_by_time ON interlock_audit(at DESC);
