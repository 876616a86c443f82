-- Durable outgoing messages: one row per (message, room) delivery, so a crash or a
-- homeserver outage delays a delivery but never loses or repeats it. `key` is the
-- idempotency key the transport turns into a transaction id. The message (which may hold
-- report text) is encrypted by the caller. An edit of, or a reply to, another delivery
-- names it by key (edit_of_key / reply_to_key) and waits until that one is sent.
CREATE TABLE outbox (
    key TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    message BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    event_id TEXT,
    edit_of_key TEXT,
    reply_to_key TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);
