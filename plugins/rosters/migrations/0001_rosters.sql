-- School watch rosters. Volunteer ids are encrypted by the plugin (to mention people in
-- reminders) and otherwise appear only as keyed hashes; sites appear as keyed hashes of
-- their slug, their definitions encrypted. Times are ISO-8601 UTC text.

-- Sites added or changed by `!site` (those from the config file live there).
CREATE TABLE roster_sites (
    key TEXT PRIMARY KEY,                -- keyed hash of the slug
    data BLOB NOT NULL,                  -- encrypted definition, or additions to a config site
    updated_at TEXT NOT NULL
);

CREATE TABLE roster_shifts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- the number people type: !claim 42
    site TEXT NOT NULL,                   -- keyed hash of the site slug
    window_name TEXT NOT NULL,            -- e.g. dropoff
    day TEXT NOT NULL,                    -- the site-local date, YYYY-MM-DD
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    need INTEGER NOT NULL,
    cap INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0, -- skipped day or removed window, after generation
    UNIQUE (site, window_name, day)
);
CREATE INDEX roster_shifts_starts ON roster_shifts (starts_at);
CREATE INDEX roster_shifts_ends ON roster_shifts (ends_at);

-- Who holds a slot of a shift: one row per person and shift.
CREATE TABLE roster_claims (
    shift_id INTEGER NOT NULL REFERENCES roster_shifts (id) ON DELETE CASCADE,
    person TEXT NOT NULL,                -- keyed hash of the volunteer
    who BLOB NOT NULL,                   -- encrypted user id, for mentions
    claimed_at TEXT NOT NULL,
    offered_at TEXT,                     -- set by !swap until someone takes the slot
    checked_in_at TEXT,
    checked_out_at TEXT,
    PRIMARY KEY (shift_id, person)
);
CREATE INDEX roster_claims_person ON roster_claims (person);

-- The backup pool of a site (`!backup on`): mentioned when a shift is short of people.
CREATE TABLE roster_backups (
    site TEXT NOT NULL,                  -- keyed hash of the site slug
    person TEXT NOT NULL,
    who BLOB NOT NULL,                   -- encrypted user id
    since TEXT NOT NULL,
    PRIMARY KEY (site, person)
);
