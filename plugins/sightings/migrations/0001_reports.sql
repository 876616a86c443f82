-- Sighting reports. Report fields, the reporter's contact and decision details are
-- encrypted by the plugin; people appear only as keyed hashes. Times are ISO-8601 UTC text.

CREATE TABLE sighting_reports (
    id TEXT PRIMARY KEY,                 -- short id such as R7K3
    area TEXT NOT NULL,                  -- area slug, to route cards and list by room
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,  -- bumped by every change a card shows
    reporter TEXT NOT NULL,              -- keyed hash of the reporter
    thread TEXT NOT NULL,                -- keyed hash of the reporter's thread root event
    intake TEXT NOT NULL UNIQUE,         -- keyed hash of the event that filed it (replays)
    fields BLOB NOT NULL,                -- encrypted report
    origin BLOB NOT NULL,                -- encrypted room, thread and user id of the reporter
    duplicate_of TEXT,
    created_at TEXT NOT NULL,
    status_since TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX sighting_reports_reporter ON sighting_reports (reporter, created_at);
CREATE INDEX sighting_reports_thread ON sighting_reports (thread);
CREATE INDEX sighting_reports_status ON sighting_reports (status, status_since);
CREATE INDEX sighting_reports_closed ON sighting_reports (closed_at);

-- The moderator card of a report in each moderation room for its area. Cards are sent by
-- the core's outbox under `key`; event_id is filled in once the card is known to be sent.
CREATE TABLE sighting_cards (
    report_id TEXT NOT NULL REFERENCES sighting_reports (id) ON DELETE CASCADE,
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    key TEXT NOT NULL,
    event_id TEXT,
    PRIMARY KEY (report_id, transport, room_id)
);
CREATE INDEX sighting_cards_event ON sighting_cards (event_id);
CREATE UNIQUE INDEX sighting_cards_key ON sighting_cards (key);

-- `!seen`: one row per person and report.
CREATE TABLE sighting_corroborations (
    report_id TEXT NOT NULL REFERENCES sighting_reports (id) ON DELETE CASCADE,
    person TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (report_id, person)
);

-- Every decision and status change, in order; seq is what a relay remembers.
CREATE TABLE sighting_decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES sighting_reports (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    cause TEXT UNIQUE,                   -- keyed hash of the event that caused it (replays)
    detail BLOB NOT NULL                 -- encrypted actor and note
);
CREATE INDEX sighting_decisions_report ON sighting_decisions (report_id);

-- Guided report dialogs in progress, one per person.
CREATE TABLE sighting_dialogs (
    person TEXT PRIMARY KEY,
    state BLOB NOT NULL,                 -- encrypted answers so far
    expires_at TEXT NOT NULL
);
