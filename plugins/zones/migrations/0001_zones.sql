-- Rotations under way (plugins/zones/rotation.py): a crash is finished at the next start.
CREATE TABLE zone_rotations (
    key TEXT PRIMARY KEY,                -- keyed hash of the old room
    body BLOB NOT NULL,                  -- encrypted: the old room, its name, the successor
    started_at TEXT NOT NULL
);

-- When each room with `rotate_days` rotates next: once per period, across restarts.
CREATE TABLE zone_schedule (
    key TEXT PRIMARY KEY,                -- keyed hash of the room
    next_at TEXT NOT NULL
);

-- Rooms whose size the admins were told of (once, until the room is smaller again).
CREATE TABLE zone_size_warnings (
    key TEXT PRIMARY KEY,                -- keyed hash of the room
    warned_at TEXT NOT NULL
);
