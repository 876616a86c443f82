-- How far each follower of an ordered log got (the relay in the reports' change log), so
-- that after a restart it catches up from there: name -> last position handled.
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
