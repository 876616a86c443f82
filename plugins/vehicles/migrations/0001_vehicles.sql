-- Vehicles: the plates of the reports still kept, compared across reports, and the network's
-- plate list. A plate is stored only encrypted; rows are found by a keyed hash of its
-- canonical form (see plates.py), which nobody without the data key can compute for a guess.

-- Each plate of each report, in the order they were filed; rows go with their report.
CREATE TABLE vehicle_report_plates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    plate_hash TEXT NOT NULL,            -- keyed hash of the canonical plate
    plate BLOB NOT NULL,                 -- encrypted: the plate as written
    filed_at TEXT NOT NULL,
    UNIQUE (report_id, plate_hash)
);
CREATE INDEX vehicle_report_plates_hash ON vehicle_report_plates (plate_hash);

-- The network's list: one row per plate. It names no reporter; the moderator who set an
-- entry is a keyed hash (their name, inside the entry, goes on `!forgetme`).
CREATE TABLE vehicle_plate_list (
    plate_hash TEXT PRIMARY KEY,         -- keyed hash of the canonical plate
    entry BLOB NOT NULL,                 -- encrypted: plate, category, note, moderator's name
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);
