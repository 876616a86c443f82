-- Core tables. Timestamps are ISO-8601 UTC text. No column holds report text or a raw user id:
-- people appear only as keyed hashes, and sensitive payloads are encrypted by the caller.

-- A transport's resume token (e.g. Matrix next_batch).
CREATE TABLE sync_state (
    transport TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Exactly-once ledger of incoming events.
CREATE TABLE handled_events (
    event_id TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('started', 'done', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 1,
    seen_at TEXT NOT NULL
);
CREATE INDEX handled_events_seen_at ON handled_events (seen_at);

CREATE TABLE joined_rooms (
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    encrypted INTEGER NOT NULL DEFAULT 0,
    refusal_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (transport, room_id)
);

-- person is a keyed hash (FieldCipher.keyed_hash), never a raw user id.
CREATE TABLE person_prefs (
    person TEXT PRIMARY KEY,
    language TEXT
);

-- payload is encrypted by the caller.
CREATE TABLE scheduled_jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    run_at TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX scheduled_jobs_run_at ON scheduled_jobs (run_at);

-- Encrypted blobs such as the transport session (access token).
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
