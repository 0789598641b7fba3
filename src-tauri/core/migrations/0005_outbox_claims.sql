-- 0005: a delivery of a disabled webhook is settled as 'skipped' (outbox state and log outcome).
-- SQLite cannot change a CHECK constraint in place, so both tables are rebuilt with the same
-- columns; nothing references them by foreign key. Claims lease a row by pushing next_attempt_at
-- to the end of the lease (see store/outbox.rs `claim`).

CREATE TABLE outbox_0005 (
    id              TEXT PRIMARY KEY, -- also the webhook-id header: stable across retries and resends
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    action_type     TEXT NOT NULL,
    action_subtype  TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER, -- pending: when due, or while claimed, when the claim's lease ends
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO outbox_0005 (id, webhook_id, action_type, action_subtype, payload, state, attempts,
                         next_attempt_at, last_error, created_at, updated_at)
    SELECT id, webhook_id, action_type, action_subtype, payload, state, attempts,
           next_attempt_at, last_error, created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_0005 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

CREATE TABLE delivery_attempts_0005 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id        TEXT, -- NULL for "Send test"
    webhook_id       TEXT,
    webhook_name     TEXT NOT NULL,
    action           TEXT NOT NULL,
    verb             TEXT NOT NULL,
    url              TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    attempted_at     INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status           INTEGER,
    error_class      TEXT,
    error            TEXT,
    response_excerpt TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'test', 'skipped')),
    next_attempt_at  INTEGER
);
INSERT INTO delivery_attempts_0005 (id, outbox_id, webhook_id, webhook_name, action, verb, url,
        attempt, attempted_at, duration_ms, status, error_class, error, response_excerpt, outcome,
        next_attempt_at)
    SELECT id, outbox_id, webhook_id, webhook_name, action, verb, url, attempt, attempted_at,
           duration_ms, status, error_class, error, response_excerpt, outcome, next_attempt_at
    FROM delivery_attempts;
DROP TABLE delivery_attempts;
ALTER TABLE delivery_attempts_0005 RENAME TO delivery_attempts;
CREATE INDEX delivery_attempts_by_time ON delivery_attempts(attempted_at DESC);
CREATE INDEX delivery_attempts_by_outbox ON delivery_attempts(outbox_id);
