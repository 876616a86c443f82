-- One row per word kept; the word is encrypted, its author a keyed hash.
CREATE TABLE tally_words (
    person TEXT NOT NULL,
    word BLOB NOT NULL,
    at TEXT NOT NULL
);
