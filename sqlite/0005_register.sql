-- 0005: the protocol register as the law wants it (DPR 445/2000 artt.
-- 53–57; DPCM 3 dicembre 2013). A registration holds, written once in the
-- transaction that records the message, its number, date and time,
-- sender, subject, the sender's own date and reference, and the message's
-- fingerprint; nothing of it can change afterwards. Annulments and
-- amendments are rows of their own, never updates. Shadow mode numbers
-- from a register of its own, 'shadow', that the daily register ignores.

-- protocols is rebuilt to carry the register's fields and the register
-- (live 'protocollo' or 'shadow') in its key; existing rows are filled in
-- from their messages.
CREATE TABLE protocols_v5 (
    office      TEXT    NOT NULL,
    register    TEXT    NOT NULL DEFAULT 'protocollo' CHECK (register IN ('protocollo', 'shadow')),
    year        INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    label       TEXT    NOT NULL UNIQUE,    -- formatted, e.g. INPS.FE.2026.0000001 (SHADOW.FE.2026.0000001)
    message     INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    assigned_at TEXT    NOT NULL,           -- date and time of registration, RFC 3339 UTC
    mailbox     TEXT    NOT NULL DEFAULT '',
    sender      TEXT    NOT NULL DEFAULT '',-- mittente (for PEC: daticert's)
    subject     TEXT    NOT NULL DEFAULT '',-- oggetto (for PEC: the original's)
    sender_date TEXT    NOT NULL DEFAULT '',-- the sender's own date (the original's Date header)
    sender_ref  TEXT    NOT NULL DEFAULT '',-- the sender's reference (PEC identificativo, else Message-ID)
    sha256      TEXT    NOT NULL DEFAULT '',-- impronta: SHA-256 of the message as received
    PRIMARY KEY (office, register, year, number)
);
INSERT INTO protocols_v5 (office, register, year, number, label, message, assigned_at, mailbox, sender, subject,
    sender_date, sender_ref, sha256)
SELECT p.office, 'protocollo', p.year, p.number, p.label, p.message, p.assigned_at, m.mailbox,
    coalesce(nullif(json_extract(m.decision, '$.sender'), ''), m.from_addr),
    coalesce(nullif(json_extract(m.decision, '$.subject'), ''), m.subject),
    m.date_header,
    coalesce(nullif(json_extract(m.decision, '$.original_id'), ''), m.message_id),
    m.sha256
FROM protocols p JOIN messages m ON m.id = p.message;
DROP TABLE protocols;
ALTER TABLE protocols_v5 RENAME TO protocols;
CREATE INDEX protocols_assigned ON protocols (register, assigned_at);

CREATE TRIGGER protocols_fixed BEFORE UPDATE ON protocols
BEGIN
    SELECT RAISE(ABORT, 'a registration cannot be changed (DPR 445/2000 art. 53): annul or amend it');
END;
CREATE TRIGGER protocols_kept BEFORE DELETE ON protocols
BEGIN
    SELECT RAISE(ABORT, 'a registration cannot be deleted (DPR 445/2000 art. 54): annul it');
END;

CREATE TABLE protocol_counters_v5 (
    office   TEXT    NOT NULL,
    register TEXT    NOT NULL DEFAULT 'protocollo',
    year     INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (office, register, year)
);
INSERT INTO protocol_counters_v5 (office, register, year, last)
SELECT office, 'protocollo', year, last FROM protocol_counters;
DROP TABLE protocol_counters;
ALTER TABLE protocol_counters_v5 RENAME TO protocol_counters;

-- annulments: art. 54 and DPCM 2013 art. 8: who, when, why, by which act.
-- The registration stays readable and its number is never given again.
CREATE TABLE annulments (
    protocol      TEXT NOT NULL PRIMARY KEY REFERENCES protocols (label),
    at            TEXT NOT NULL,            -- RFC 3339 UTC
    by            TEXT NOT NULL,
    reason        TEXT NOT NULL,
    provvedimento TEXT NOT NULL            -- the authorising act
);
CREATE INDEX annulments_at ON annulments (at);

-- amendments: a corrected sender or subject, the old value kept beside it.
CREATE TABLE amendments (
    id       INTEGER PRIMARY KEY,
    protocol TEXT NOT NULL REFERENCES protocols (label),
    field    TEXT NOT NULL CHECK (field IN ('sender', 'subject')),
    old      TEXT NOT NULL,
    new      TEXT NOT NULL,
    at       TEXT NOT NULL,
    by       TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX amendments_at ON amendments (at);
CREATE INDEX amendments_protocol ON amendments (protocol);

CREATE TRIGGER annulments_fixed BEFORE UPDATE ON annulments
BEGIN
    SELECT RAISE(ABORT, 'an annulment cannot be changed');
END;
CREATE TRIGGER annulments_kept BEFORE DELETE ON annulments
BEGIN
    SELECT RAISE(ABORT, 'an annulment cannot be deleted');
END;
CREATE TRIGGER amendments_fixed BEFORE UPDATE ON amendments
BEGIN
    SELECT RAISE(ABORT, 'an amendment cannot be changed: amend again');
END;
CREATE TRIGGER amendments_kept BEFORE DELETE ON amendments
BEGIN
    SELECT RAISE(ABORT, 'an amendment cannot be deleted');
END;

-- register_days: the daily register files produced (registro giornaliero,
-- art. 53 c.2), their fingerprints (a hash chain: each day's JSON names
-- the previous day's), and their handover to conservation.
CREATE TABLE register_days (
    day           TEXT    PRIMARY KEY,      -- YYYY-MM-DD, Europe/Rome
    first         TEXT    NOT NULL DEFAULT '',
    last          TEXT    NOT NULL DEFAULT '',
    count         INTEGER NOT NULL,         -- registrations of the day
    csv_sha256    TEXT    NOT NULL,
    json_sha256   TEXT    NOT NULL,
    produced_at   TEXT    NOT NULL,
    handed_at     TEXT    NOT NULL DEFAULT '', -- '' until the handover succeeded
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  TEXT    NOT NULL DEFAULT '',
    last_error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX register_days_pending ON register_days (next_attempt) WHERE handed_at = '';
CREATE TRIGGER register_days_fixed BEFORE UPDATE OF day, first, last, count, csv_sha256, json_sha256, produced_at ON register_days
BEGIN
    SELECT RAISE(ABORT, 'a daily register cannot be changed');
END;
CREATE TRIGGER register_days_kept BEFORE DELETE ON register_days
BEGIN
    SELECT RAISE(ABORT, 'a daily register cannot be deleted');
END;

-- The metrics count the outbox by state at every scrape.
CREATE INDEX outbox_state ON outbox (state, created_at);

-- Retention (REQUIREMENTS P5): a message's bytes are removed from the spool
-- once the rules' days have passed since its case closed (or since it was
-- decided, without a case); its row — register line, decision, SHA-256 —
-- stays. A purged message names the empty segment ''.
ALTER TABLE messages ADD COLUMN purged_at TEXT NOT NULL DEFAULT '';
INSERT INTO spool_segments (name, size, created_at) VALUES ('', 0, '');

-- settings: what the running daemon says of itself for the commands run
-- beside it: mode = shadow or live (run --shadow is not in the file).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
