-- The folder a UID belongs to. A UID names a message only within its
-- folder and that folder's UIDVALIDITY, and two folders may share a
-- UIDVALIDITY: a mailbox pointed at another folder must not take the new
-- folder's UIDs for the old one's sightings. mailbox_state.folder is the
-- folder the sync state (UIDVALIDITY, last UID) belongs to; a sighting is
-- keyed by (mailbox, folder, UIDVALIDITY, UID). Sightings from before this
-- migration have folder '': the next session gives them its folder when
-- the UIDVALIDITY is unchanged, drops the moves still pending and reads
-- the folder again from its first message (recorded UIDs recognised with
-- their Message-ID checked, other known mail by Message-ID and SHA-256).
ALTER TABLE mailbox_state ADD COLUMN folder TEXT NOT NULL DEFAULT '';

CREATE TABLE sightings_v6 (
    mailbox     TEXT    NOT NULL,
    folder      TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message     INTEGER NOT NULL REFERENCES messages (id),
    seen_at     TEXT    NOT NULL,
    moved_to    TEXT,   -- the outcome folder; '' left in place; NULL not yet moved
    moved_at    TEXT,
    PRIMARY KEY (mailbox, folder, uidvalidity, uid)
);
INSERT INTO sightings_v6 (mailbox, folder, uidvalidity, uid, message, seen_at, moved_to, moved_at)
    SELECT mailbox, '', uidvalidity, uid, message, seen_at, moved_to, moved_at FROM sightings;
DROP TABLE sightings;
ALTER TABLE sightings_v6 RENAME TO sightings;
CREATE INDEX sightings_pending ON sightings (mailbox, folder, uidvalidity) WHERE moved_at IS NULL;
CREATE INDEX sightings_message ON sightings (message);

-- sent_state.folder: the Sent folder read up to last_uid ('' before this
-- migration: taken as it is under the same UIDVALIDITY). Another folder is
-- a first sight, whatever its UIDVALIDITY.
ALTER TABLE sent_state ADD COLUMN folder TEXT NOT NULL DEFAULT '';

-- outbox.queued_at: when an operator put a mail in the queue again
-- (outbox retry, release --held); '' for never. A mail's retries give up
-- Expiry after the later of it and created_at, not days before a release.
ALTER TABLE outbox ADD COLUMN queued_at TEXT NOT NULL DEFAULT '';
