-- 0002: webhooks, the durable outbox of order/event deliveries, and the log of every attempt.
-- Secret values are never stored here: only whether one is set in the OS keyring.

CREATE TABLE webhooks (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    action_type        TEXT NOT NULL CHECK (action_type IN ('order', 'event', 'interlock')),
    action_subtype     TEXT NOT NULL CHECK (action_subtype IN ('create', 'update', 'delete', 'unlock', 'status', 'lock')),
    service_id         TEXT REFERENCES services(id) ON DELETE CASCADE, -- NULL: every service
    url                TEXT NOT NULL,
    verb               TEXT NOT NULL CHECK (verb IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    insecure           INTEGER NOT NULL DEFAULT 0 CHECK (insecure IN (0, 1)),
    headers            TEXT NOT NULL DEFAULT '[]', -- JSON [{name, value, secret, secret_set}]
    auth               TEXT NOT NULL DEFAULT 'none' CHECK (auth IN ('none', 'basic', 'bearer')),
    auth_username      TEXT NOT NULL DEFAULT '',
    auth_secret_set    INTEGER NOT NULL DEFAULT 0,
    body               TEXT NOT NULL DEFAULT '{}',
    timeout_secs       INTEGER NOT NULL DEFAULT 15,
    signing            INTEGER NOT NULL DEFAULT 0,
    signing_secret_set INTEGER NOT NULL DEFAULT 0,
    ca_pem             TEXT,
    disabled_reason    TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX webhooks_by_action ON webhooks(action_type, action_subtype);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY, -- also the webhook-id header: stable across retries
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    action_type     TEXT NOT NULL,
    action_subtype  TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

CREATE TABLE delivery_attempts (
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
    outcome          TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'test')),
    next_attempt_at  INTEGER
);
CREATE INDEX delivery_attempts_by_time ON delivery_attempts(attempted_at DESC);
CREATE INDEX delivery_attempts_by_outbox ON delivery_attempts(outbox_id);
