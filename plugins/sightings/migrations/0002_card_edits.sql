-- Each card's edits are numbered, and the last text queued is remembered (as a keyed
-- digest): a refresh that changes nothing sends nothing, and a card that goes back to an
-- earlier text (someone going, then not) is still edited.
ALTER TABLE sighting_cards ADD COLUMN edits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sighting_cards ADD COLUMN shown TEXT;
