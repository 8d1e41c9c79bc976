-- 0002: the outbox of automatic answers. An answer is enqueued in the
-- transaction that records the decision it answers, so a crash can neither
-- lose nor invent one; it is sent by one sender with stored backoff.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    message      INTEGER NOT NULL REFERENCES messages (id), -- the mail answered
    mailbox      TEXT    NOT NULL,            -- configured mailbox whose SMTP account sends it
    kind         TEXT    NOT NULL,            -- accettazione, rifiuto
    message_id   TEXT    NOT NULL UNIQUE,     -- deterministic: a resend is recognisable
    mail_from    TEXT    NOT NULL,
    rcpt         TEXT    NOT NULL,
    body         BLOB    NOT NULL,            -- the rendered RFC 5322 message
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'held', 'sent', 'failed', 'suppressed')),
    reason       TEXT    NOT NULL DEFAULT '', -- why held or suppressed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT    NOT NULL DEFAULT '',
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    sent_at      TEXT    NOT NULL DEFAULT '',
    delivery     TEXT    NOT NULL DEFAULT '', -- PEC receipts: accettazione, avvenuta-consegna, errore-consegna …
    delivery_at  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_queue ON outbox (next_attempt) WHERE state = 'queued';
CREATE INDEX outbox_rcpt ON outbox (rcpt, created_at);
CREATE INDEX outbox_message ON outbox (message);
