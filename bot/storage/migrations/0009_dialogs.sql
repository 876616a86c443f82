-- Dialogs in progress (bot/core/dialogs.py): at most one per person and kind, the answers
-- so far encrypted, until the dialog ends or is forgotten some time after it expired.
CREATE TABLE dialogs (
    kind TEXT NOT NULL,
    person TEXT NOT NULL,                -- keyed hash of the person
    state BLOB NOT NULL,                 -- encrypted: where it runs, its step, the answers
    expires_at TEXT NOT NULL,
    PRIMARY KEY (kind, person)
);
CREATE INDEX dialogs_expiry ON dialogs (kind, expires_at);
