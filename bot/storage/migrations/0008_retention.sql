-- The bot's own messages in rooms with message_retention_days, to delete them once old
-- enough. The send key tells a broadcast's messages (an alert, its edits and follow-ups),
-- which wait for their broadcast to close. No message content is stored here.
CREATE TABLE retained_messages (
    transport TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    send_key TEXT,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (transport, room_id, event_id)
);
CREATE INDEX retained_messages_age ON retained_messages (sent_at);
