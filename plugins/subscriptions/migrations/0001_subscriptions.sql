-- Subscribers (plugins/subscriptions): a person as a keyed hash, the direct chat to write
-- to encrypted; nothing here names anyone without the data key.
CREATE TABLE subscribers (
    person TEXT PRIMARY KEY,             -- keyed hash of the person
    address BLOB NOT NULL,               -- encrypted: network, direct chat, user id
    vouched_by TEXT,                     -- keyed hash of the member who vouched, if any
    created_at TEXT NOT NULL
);

CREATE TABLE subscriptions (
    person TEXT NOT NULL REFERENCES subscribers (person) ON DELETE CASCADE,
    area TEXT NOT NULL,
    PRIMARY KEY (person, area)
);
CREATE INDEX subscriptions_area ON subscriptions (area);

-- One-time codes a member gives a newcomer (`!vouch`, `!join`).
CREATE TABLE vouch_codes (
    code TEXT PRIMARY KEY,               -- keyed hash of the code
    voucher TEXT NOT NULL,               -- keyed hash of the member who vouched
    expires_at TEXT NOT NULL,
    used_at TEXT
);
