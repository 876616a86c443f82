-- The Signal transport's memory. signal-cli has no idempotency keys and no threads, so the
-- transport keeps both itself. Message ids here are the transport's sealed ids (opaque
-- without the data key); send keys are keyed hashes.

-- key -> the sent timestamp of the message it produced: a retried send is not posted twice.
CREATE TABLE signal_sent (
    key_hash TEXT PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX signal_sent_sent_at ON signal_sent (sent_at);

-- message -> the thread (its root message) it belongs to: a quote of it continues the thread.
CREATE TABLE signal_threads (
    message TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX signal_threads_created_at ON signal_threads (created_at);
