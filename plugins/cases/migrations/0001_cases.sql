-- Cases after a detention. Everything a case holds (alias, place, lawyer, notes, needs) is
-- one encrypted record; the report it came from appears only as a keyed hash. No person is
-- stored: not who opened it, not who wrote a note. Times are ISO-8601 UTC text.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,                 -- C7K3
    report TEXT UNIQUE,                  -- keyed hash of the report id, if it came from one
    opened_at TEXT NOT NULL,
    closed_at TEXT,                      -- erased `retention_days` after this
    data BLOB NOT NULL                   -- the encrypted case
);
CREATE INDEX cases_closed ON cases (closed_at);
