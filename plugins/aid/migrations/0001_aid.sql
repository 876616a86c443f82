-- Mutual aid (plugins/aid). People are keyed hashes; what they wrote and where to reach
-- them is encrypted. Kind, area, state and times are clear: they say nothing of whom.
CREATE TABLE aid_requests (
    id TEXT PRIMARY KEY,                 -- A7K3
    kind TEXT NOT NULL,
    area TEXT NOT NULL,
    state TEXT NOT NULL,                 -- open, offered, taken, done, expired, withdrawn
    body BLOB NOT NULL,                  -- encrypted: when, the request's words
    lang TEXT NOT NULL,                  -- the requester's language
    requester TEXT,                      -- keyed hash; NULL: a legal team's case
    requester_address BLOB,              -- encrypted: network, direct chat, user id
    volunteer TEXT,                      -- keyed hash of who offered or took it
    volunteer_address BLOB,              -- encrypted, as requester_address
    intake TEXT UNIQUE,                  -- the message that filed it (a replay files nothing)
    revision INTEGER NOT NULL DEFAULT 0, -- changes of its card so far
    head_start INTEGER NOT NULL DEFAULT 0, -- standing offers got it first
    filed_at TEXT NOT NULL,
    posted_at TEXT,
    reposted_at TEXT,
    asked_at TEXT,                       -- asked whether it is still needed
    changed_at TEXT NOT NULL
);
CREATE INDEX aid_requests_requester ON aid_requests (requester);
CREATE INDEX aid_requests_volunteer ON aid_requests (volunteer);

-- Standing offers (`!offer KIND [area] [when]`).
CREATE TABLE aid_offers (
    person TEXT NOT NULL,                -- keyed hash
    kind TEXT NOT NULL,
    area TEXT NOT NULL,
    detail BLOB NOT NULL,                -- encrypted: when
    address BLOB NOT NULL,               -- encrypted: their direct chat
    created_at TEXT NOT NULL,
    PRIMARY KEY (person, kind, area)
);
CREATE INDEX aid_offers_kind ON aid_offers (kind, area);

-- The direct chat of each person who used an aid command in one: where the bot writes
-- to them (a volunteer who gave in a room, say).
CREATE TABLE aid_people (
    person TEXT PRIMARY KEY,             -- keyed hash
    address BLOB NOT NULL                -- encrypted: network, direct chat, user id
);
