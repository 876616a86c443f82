-- Safety check-ins (plugins/checkins). People are keyed hashes; everything they said
-- (place, alias, their direct chat, their contacts) is encrypted.

-- One plan per person: at due_at the bot asks, at alarm_at it tells their contacts.
CREATE TABLE checkin_plans (
    person TEXT PRIMARY KEY,             -- keyed hash of the person
    body BLOB NOT NULL,                  -- encrypted: direct chat, place, alias, area, case
    state TEXT NOT NULL,                 -- planned | asked | alarmed
    due_at TEXT NOT NULL,
    alarm_at TEXT,
    created_at TEXT NOT NULL
);

-- Emergency contacts: told only once they accepted.
CREATE TABLE checkin_contacts (
    owner TEXT NOT NULL,                 -- keyed hash of the person they watch over
    contact TEXT NOT NULL,               -- keyed hash of the contact (network and id)
    code TEXT,                           -- keyed hash of the code to accept; NULL: accepted
    body BLOB NOT NULL,                  -- encrypted: their id as typed, their direct chat
    asked_at TEXT NOT NULL,
    PRIMARY KEY (owner, contact)
);
CREATE INDEX checkin_contacts_contact ON checkin_contacts (contact);
CREATE INDEX checkin_contacts_code ON checkin_contacts (code);

-- Accompaniment requests: a nameless shift on a dispatch rota.
CREATE TABLE accompaniments (
    id TEXT PRIMARY KEY,                 -- random, in no message
    person TEXT NOT NULL,                -- keyed hash of the person asking
    volunteer TEXT,                      -- keyed hash of who claimed it
    room TEXT NOT NULL,                  -- the rota's room, as transport:id
    shift TEXT NOT NULL,                 -- the shift's number on that rota
    body BLOB NOT NULL,                  -- encrypted: both direct chats, the kind
    state TEXT NOT NULL,                 -- open | asked | introduced | declined
    starts_at TEXT NOT NULL
);
CREATE INDEX accompaniments_shift ON accompaniments (room, shift);
CREATE INDEX accompaniments_person ON accompaniments (person);
