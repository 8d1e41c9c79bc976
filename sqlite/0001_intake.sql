-- 0001: the intake spine: messages kept byte for byte (in spool segment
-- files, with their SHA-256), where each was seen, protocol numbers, the append-only event log
-- and the per-mailbox sync and backoff state.

-- spool_segments: the segment files committed (synced before this row); a
-- file in the spool without a row is a crash's leftover, removed at start.
CREATE TABLE spool_segments (
    name       TEXT PRIMARY KEY,             -- relative to state_dir/spool
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- messages: one row per distinct message (same Message-ID and same bytes =
-- same message, wherever and however often it is seen).
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT    NOT NULL,           -- hex SHA-256 of the stored bytes
    spool_segment TEXT   NOT NULL REFERENCES spool_segments (name),
    spool_offset INTEGER NOT NULL,           -- where the bytes start in the segment
    size         INTEGER NOT NULL,           -- RFC822.SIZE reported by the server
    stored_size  INTEGER NOT NULL,           -- bytes kept in the spool
    truncated    INTEGER NOT NULL DEFAULT 0, -- 1: over the size cap, only the header kept
    message_id   TEXT    NOT NULL DEFAULT '',-- Message-ID without <>, '' when missing
    mailbox      TEXT    NOT NULL,           -- configured mailbox name where first seen
    from_addr    TEXT    NOT NULL DEFAULT '',
    to_addr      TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    date_header  TEXT    NOT NULL DEFAULT '',
    received_at  TEXT    NOT NULL,           -- IMAP INTERNALDATE, RFC 3339 UTC
    recorded_at  TEXT    NOT NULL,           -- when the decision was recorded
    outcome      TEXT    NOT NULL CHECK (outcome IN ('accepted', 'refused', 'ignored', 'quarantined')),
    reasons      TEXT    NOT NULL DEFAULT '[]', -- JSON array of reason codes
    codice_fiscale TEXT  NOT NULL DEFAULT '',   -- as understood from the subject
    gestione     TEXT    NOT NULL DEFAULT '',
    due          TEXT    NOT NULL DEFAULT '',   -- YYYY-MM-DD reply due (accepted only)
    decision     TEXT    NOT NULL DEFAULT '{}', -- JSON: the classifier's full decision
    UNIQUE (message_id, sha256)
);

-- sightings: every (mailbox, UIDVALIDITY, UID) under which a message was
-- fetched. moved_at stays NULL until the move to the outcome folder is
-- confirmed, so a crash between commit and move is finished on restart.
CREATE TABLE sightings (
    mailbox     TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message     INTEGER NOT NULL REFERENCES messages (id),
    seen_at     TEXT    NOT NULL,
    moved_to    TEXT,
    moved_at    TEXT,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);
CREATE INDEX sightings_pending ON sightings (mailbox, uidvalidity) WHERE moved_at IS NULL;
CREATE INDEX sightings_message ON sightings (message);
CREATE INDEX messages_due ON messages (due) WHERE due != '';

-- protocol_counters: the last number given per office and year (Europe/Rome).
CREATE TABLE protocol_counters (
    office TEXT    NOT NULL,
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (office, year)
);

-- protocols: one number per accepted message, never reassigned.
CREATE TABLE protocols (
    office      TEXT    NOT NULL,
    year        INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    label       TEXT    NOT NULL UNIQUE,    -- formatted, e.g. INPS.FE.2026.0000001
    message     INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    assigned_at TEXT    NOT NULL,
    PRIMARY KEY (office, year, number)
);

-- events: the append-only record of every step (REQUIREMENTS P3).
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at      TEXT    NOT NULL,
    message INTEGER REFERENCES messages (id),
    mailbox TEXT    NOT NULL DEFAULT '',
    kind    TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '{}'   -- JSON object
);
CREATE INDEX events_message ON events (message);
CREATE INDEX events_kind_at ON events (kind, at);
CREATE TRIGGER events_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- mailbox_state: UID sync position and the stored reconnect backoff.
CREATE TABLE mailbox_state (
    mailbox      TEXT    PRIMARY KEY,
    uidvalidity  INTEGER NOT NULL DEFAULT 0,
    last_uid     INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT    NOT NULL DEFAULT '',
    last_error   TEXT    NOT NULL DEFAULT '',
    updated_at   TEXT    NOT NULL DEFAULT ''
);
