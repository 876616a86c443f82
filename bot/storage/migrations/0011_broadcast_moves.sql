-- A broadcast's message in a room that was replaced: the successor has no message to edit
-- yet, so the broadcast's next change posts it whole there (then edits it as usual).
ALTER TABLE broadcast_rooms ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;
