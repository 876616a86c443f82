-- A broadcast's message to one person (a subscriber's direct chat) is in that person's
-- language, kept so that its later changes read in it too; NULL: the room's language.
ALTER TABLE broadcast_rooms ADD COLUMN lang TEXT;
