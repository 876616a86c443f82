-- The relay's place in the reports' change log now lives in the core's cursors.
INSERT OR IGNORE INTO cursors (name, position) SELECT 'relay', last_seq FROM relay_position;
DROP TABLE relay_position;
