-- Dispatch: who was called to a report's scene, who went, and what they saw. People appear
-- as keyed hashes; their ids, names and notes are encrypted. Rows go with their report.

-- A report's dispatch call, and the responders call-out once it was confirmed.
CREATE TABLE dispatch_calls (
    report_id TEXT PRIMARY KEY,
    area TEXT NOT NULL,
    called_at TEXT NOT NULL,
    confirmed_at TEXT,
    closed_at TEXT
);

-- One row per person and report: a verifier before the confirmation, a responder after.
CREATE TABLE dispatch_people (
    report_id TEXT NOT NULL REFERENCES dispatch_calls (report_id) ON DELETE CASCADE,
    person TEXT NOT NULL,
    who BLOB NOT NULL,                   -- encrypted user id and name
    responder INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('going', 'notgoing', 'onscene')),
    eta TEXT,
    going_at TEXT,
    onscene_at TEXT,
    -- The last sign of life (any answer), and when they were asked if they are OK.
    heard_at TEXT NOT NULL,
    asked_at TEXT,
    PRIMARY KEY (report_id, person, responder)
);

-- What verifiers saw on scene, in order.
CREATE TABLE dispatch_observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES dispatch_calls (report_id) ON DELETE CASCADE,
    person TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('confirmed', 'nothing', 'gone')),
    detail BLOB NOT NULL,                -- encrypted name and note
    at TEXT NOT NULL
);
CREATE INDEX dispatch_observations_report ON dispatch_observations (report_id);
