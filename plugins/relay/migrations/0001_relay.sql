-- Where each confirmed report was relayed, so updates edit exactly those alerts.
-- confirm_seq names the confirmation (report ids can come back after a purge); the alert's
-- outbox key is derived from it. No report content is stored here.
CREATE TABLE relay_alerts (
    report_id TEXT NOT NULL,
    confirm_seq INTEGER NOT NULL,
    confirmed_at TEXT NOT NULL,
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    -- Set for the reporter's thread, where the alert is a reply.
    thread_root TEXT,
    closed_at TEXT,
    PRIMARY KEY (confirm_seq, transport, room_id)
);
CREATE INDEX relay_alerts_report ON relay_alerts (report_id);

-- The last report change relayed: changes after it are caught up at start.
CREATE TABLE relay_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
