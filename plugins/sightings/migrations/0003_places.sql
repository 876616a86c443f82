-- Possible duplicates: a keyed hash of the place a report names (its cross streets or
-- landmark, normalized; see places.py), and the open report it may repeat. The hash tells
-- only that two reports name the same place, not which.
ALTER TABLE sighting_reports ADD COLUMN place TEXT;
ALTER TABLE sighting_reports ADD COLUMN similar_to TEXT;
CREATE INDEX sighting_reports_place ON sighting_reports (area, place, created_at);
