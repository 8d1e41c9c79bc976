-- mailbox_state.folder: the folder the sync state (UIDVALIDITY, last UID)
-- belongs to. A UID names a message only within its folder and UIDVALIDITY:
-- when a mailbox is pointed at another folder whose UIDVALIDITY happens to
-- be the same, the old last UID would hide the new folder's first messages
-- and old sightings would pass for them. '' : not yet recorded (before
-- this migration); the next session records it.
ALTER TABLE mailbox_state ADD COLUMN folder TEXT NOT NULL DEFAULT '';
