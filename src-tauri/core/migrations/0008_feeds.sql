-- 0008: bookings from the facility's calendar. Accounts get an optional e-mail (a feed's
-- ATTENDEE/ORGANIZER is matched against it); `feeds` holds each service's iCalendar feeds with
-- their sync state; `events` is rebuilt so a synced booking can have no account (nobody at this
-- station matched it: `booked_by` keeps the name the feed gave) and remembers where it came from
-- (feed + UID + occurrence key, or an imported file). Foreign keys are off while migrations run
-- (the rebuild's DROP must not cascade to usage records) and checked before the commit.

ALTER TABLE accounts ADD COLUMN email TEXT;
CREATE UNIQUE INDEX accounts_by_email ON accounts(email COLLATE NOCASE) WHERE email IS NOT NULL;

CREATE TABLE feeds (
    id               TEXT PRIMARY KEY,
    service_id       TEXT NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
    name             TEXT NOT NULL,
    url              TEXT NOT NULL,
    auth             TEXT NOT NULL DEFAULT 'none' CHECK (auth IN ('none', 'basic', 'bearer')),
    auth_username    TEXT NOT NULL DEFAULT '',
    auth_secret_set  INTEGER NOT NULL DEFAULT 0 CHECK (auth_secret_set IN (0, 1)),
    insecure         INTEGER NOT NULL DEFAULT 0 CHECK (insecure IN (0, 1)),
    ca_pem           TEXT,
    refresh_minutes  INTEGER NOT NULL DEFAULT 5 CHECK (refresh_minutes >= 1),
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    fire_webhooks    INTEGER NOT NULL DEFAULT 0 CHECK (fire_webhooks IN (0, 1)),
    user_pattern     TEXT NOT NULL DEFAULT '',
    -- sync state
    etag             TEXT,
    last_modified    TEXT,
    last_attempt_at  INTEGER,
    last_success_at  INTEGER,
    last_error       TEXT,
    last_error_class TEXT,
    last_error_at    INTEGER,
    failing          INTEGER NOT NULL DEFAULT 0 CHECK (failing IN (0, 1)),
    bookings         INTEGER NOT NULL DEFAULT 0,
    warnings         TEXT NOT NULL DEFAULT '[]', -- JSON array of strings from the last parse
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (service_id, name)
);

CREATE TABLE events_new (
    id              TEXT PRIMARY KEY,
    service_id      TEXT NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
    user_id         TEXT REFERENCES accounts(id) ON DELETE RESTRICT,
    title           TEXT NOT NULL DEFAULT '',
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    order_id        TEXT REFERENCES orders(id) ON DELETE SET NULL,
    line_id         TEXT REFERENCES order_lines(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- where a booking came from: a feed (read-only here) or an imported .ics file (`source`)
    feed_id         TEXT REFERENCES feeds(id) ON DELETE RESTRICT,
    source          TEXT NOT NULL DEFAULT '',
    source_uid      TEXT,
    source_key      TEXT,
    source_sequence INTEGER NOT NULL DEFAULT 0,
    booked_by       TEXT NOT NULL DEFAULT '',
    CHECK (ends_at > starts_at),
    CHECK (user_id IS NOT NULL OR feed_id IS NOT NULL)
);
INSERT INTO events_new (id, service_id, user_id, title, starts_at, ends_at, order_id, line_id,
                        created_at, updated_at)
    SELECT id, service_id, user_id, title, starts_at, ends_at, order_id, line_id, created_at,
           updated_at
    FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_service_time ON events(service_id, starts_at);
CREATE INDEX events_by_user_time ON events(user_id, starts_at);
CREATE UNIQUE INDEX events_by_feed_source ON events(feed_id, source_uid, source_key)
    WHERE feed_id IS NOT NULL;
CREATE UNIQUE INDEX events_by_file_source ON events(service_id, source_uid, source_key)
    WHERE feed_id IS NULL AND source_uid IS NOT NULL;
