-- Urgent deliveries (alerts to the neighborhoods) go first: while one is due or being sent,
-- no other delivery starts, so nothing else competes with them for the homeserver.
ALTER TABLE outbox ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1));
