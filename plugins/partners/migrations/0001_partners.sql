-- The identity key each partner's bot last showed, and whether the partner is suspended
-- because it changed from the pinned one (until an admin re-pins it with !partner trust).
CREATE TABLE partner_keys (
    partner TEXT PRIMARY KEY,        -- keyed hash of the partner bot's user id
    pinned TEXT,                     -- a re-pinned key (else the config's)
    seen TEXT,                       -- the last key that vouched for its events
    suspended INTEGER NOT NULL DEFAULT 0
);
