-- 0007: each instrument's relay state along the day, for the station's timeline: one row each
-- time a reading (the status watch, a command's read-back) finds the state changed. Pruned with
-- the other history (the retention setting).

CREATE TABLE interlock_readings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('locked', 'unlocked', 'unknown')),
    at         INTEGER NOT NULL
);
CREATE INDEX interlock_readings_by_service_time ON interlock_readings(service_id, at);
