-- 0004: cases, the other half of the product (REQUIREMENTS D1–D5). Every
-- accepted message opens a case with its due date; the scheduler takes
-- each step of its ladder once; a reply found in the Sent folder, or an
-- operator, closes it. The case's history is the message's event log.
CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    message      INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    mailbox      TEXT    NOT NULL,               -- configured mailbox name
    address      TEXT    NOT NULL,               -- the mailbox's address (its rules)
    protocol     TEXT    NOT NULL UNIQUE,
    sender       TEXT    NOT NULL,               -- who wrote (answers and the waiting ladder go there)
    received_day TEXT    NOT NULL,               -- D, YYYY-MM-DD: the day the mail counts as received
    due          TEXT    NOT NULL,               -- YYYY-MM-DD
    term_days    INTEGER NOT NULL,               -- the working days to answer when it opened (the promise made)
    paused_days  INTEGER NOT NULL DEFAULT 0,     -- working days the office's term stood still while waiting
    state        TEXT    NOT NULL CHECK (state IN ('open', 'overdue', 'waiting', 'answered', 'closed')),
    outcome      TEXT    NOT NULL DEFAULT '',    -- closed: answered, unsatisfactory, withdrawn
    ladder       TEXT    NOT NULL DEFAULT 'risposta', -- the ladder in force: risposta, attesa, regione
    anchor_day   TEXT    NOT NULL DEFAULT '',    -- attesa: the day the office asked; regione: forwarded
    level        TEXT    NOT NULL DEFAULT '',    -- the last level reached in the ladder in force
    next_step_at TEXT    NOT NULL DEFAULT '',    -- RFC 3339 UTC: when the next step falls due; '' none
    opened_at    TEXT    NOT NULL,
    replied_at   TEXT    NOT NULL DEFAULT '',    -- the office's reply (Sent folder) or the closing
    closed_at    TEXT    NOT NULL DEFAULT ''
);
-- Due cases are found through this index, never by a scan.
CREATE INDEX cases_next_step ON cases (next_step_at) WHERE next_step_at != '';
CREATE INDEX cases_state ON cases (state, mailbox);
CREATE INDEX cases_sender ON cases (lower(sender));

-- case_steps: each ladder level taken, once: the UNIQUE key is written in
-- the transaction that enqueues its mail, so no crash or double start can
-- send it twice. skipped: crossed while the daemon was down, not mailed.
CREATE TABLE case_steps (
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    ladder   TEXT    NOT NULL,
    level    TEXT    NOT NULL,
    due_day  TEXT    NOT NULL,                   -- YYYY-MM-DD the step fell due
    taken_at TEXT    NOT NULL,
    skipped  INTEGER NOT NULL DEFAULT 0,
    outbox   INTEGER REFERENCES outbox (id),
    PRIMARY KEY (case_id, ladder, level)
);

-- case_links: the Message-IDs that lead to a case: the original's, our
-- acknowledgment's, the follow-ups' and the office's replies'.
CREATE TABLE case_links (
    message_id TEXT    PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id)
);

-- The outbox carries deadline mails too: the case they are about, and
-- their Cc recipients (comma-separated).
ALTER TABLE outbox ADD COLUMN case_id INTEGER REFERENCES cases (id);
ALTER TABLE outbox ADD COLUMN cc TEXT NOT NULL DEFAULT '';

-- sent_state: the Sent folder watched per mailbox, read-only, by UID.
CREATE TABLE sent_state (
    mailbox     TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL DEFAULT 0,
    last_uid    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT    NOT NULL
);
