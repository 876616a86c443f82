-- Messages broadcast to many rooms (alerts, later dispatch calls and debunks), so that a
-- later change edits exactly the messages that were sent. The key names the broadcast and
-- derives each room's outbox key; the topic (e.g. "relay:R7K3") finds the latest one.
-- No message content is stored here.
CREATE TABLE broadcasts (
    key TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX broadcasts_topic ON broadcasts (topic, opened_at);

CREATE TABLE broadcast_rooms (
    key TEXT NOT NULL REFERENCES broadcasts (key) ON DELETE CASCADE,
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    -- Set where the message is a reply in a thread (the reporter's thread).
    thread_root TEXT,
    PRIMARY KEY (key, transport, room_id)
);
