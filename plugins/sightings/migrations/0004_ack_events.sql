-- The acknowledgement the bot posted in the reporter's room: a report erased by !forgetme
-- takes it out of the room too (it repeats what the report said).
ALTER TABLE sighting_reports ADD COLUMN ack_event TEXT;
