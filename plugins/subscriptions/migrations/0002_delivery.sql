-- Which direct chat a subscriber is written to, as a keyed hash (to find them when a
-- delivery there is given up), and how many alerts could not reach them.
ALTER TABLE subscribers ADD COLUMN room_key TEXT;
ALTER TABLE subscribers ADD COLUMN misses INTEGER NOT NULL DEFAULT 0;
CREATE INDEX subscribers_room ON subscribers (room_key);

-- How many subscribers were dropped because they could not be reached any more.
CREATE TABLE subscription_drops (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    dropped INTEGER NOT NULL
);
