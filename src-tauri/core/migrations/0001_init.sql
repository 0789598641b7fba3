-- 0001: accounts, sign-in throttling, settings, services, orders with line items, events.
-- Instants are INTEGER milliseconds since the Unix epoch, UTC. Ids are ULIDs.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('administrator', 'facility_staff', 'instrument_user')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE login_throttle (
    username     TEXT PRIMARY KEY COLLATE NOCASE,
    failures     INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]', -- JSON array of strings, validated by the core
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    reference  TEXT NOT NULL UNIQUE COLLATE NOCASE,
    customer   TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'completed', 'cancelled')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE order_lines (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
    description TEXT NOT NULL,
    position    INTEGER NOT NULL
);
CREATE INDEX order_lines_by_order ON order_lines(order_id, position);
CREATE INDEX order_lines_by_service ON order_lines(service_id);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
    user_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE RESTRICT,
    title      TEXT NOT NULL DEFAULT '',
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    order_id   TEXT REFERENCES orders(id) ON DELETE SET NULL,
    line_id    TEXT REFERENCES order_lines(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_by_service_time ON events(service_id, starts_at);
CREATE INDEX events_by_user_time ON events(user_id, starts_at);
