-- 0006: the usage record of each booking, for billing by use: its actual start (the first
-- successful unlock of the booking) and actual end (the successful lock that ended it, by a
-- person or by auto-lock), with who did each (account id and the username at that moment), and
-- the end the booking was scheduled with before a lock first moved it (set_end_on_lock /
-- trim_end_on_lock). It goes with its booking.

CREATE TABLE usage_records (
    event_id         TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    started_at       INTEGER,
    started_by_id    TEXT,
    started_by       TEXT,
    ended_at         INTEGER,
    ended_by_id      TEXT,
    ended_by         TEXT,
    booked_ends_at   INTEGER
);
