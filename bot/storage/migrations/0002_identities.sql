-- People's identity keys (Matrix: cross-signing master keys), trusted on first use.
-- person is a keyed hash, never a raw user id; the keys are public keys.
-- A person is flagged while current_key differs from trusted_key: a moderator loses
-- moderator rights until an admin trusts the new key (`!trust`).
CREATE TABLE identities (
    person TEXT PRIMARY KEY,
    trusted_key TEXT NOT NULL,
    current_key TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    changed_at TEXT
);
