-- The network's shape as admins changed it from chat (bot/core/structure.py): areas,
-- links between areas, rooms adopted or created, and rooms replaced by a successor.
-- Everything that names an area or a room is encrypted; the key is a keyed hash.
CREATE TABLE structure (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                  -- area | near | room | moved
    body BLOB NOT NULL,                  -- encrypted JSON
    changed_at TEXT NOT NULL
);
