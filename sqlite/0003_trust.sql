-- 0003: what the trust issue records of answers. authenticated: the sender
-- answered was authenticated (a certified PEC, or DMARC/aligned DKIM by the
-- office's MTA); the per-sender daily limit counts each kind apart, so a
-- forger cannot use up a real sender's answers. undelivered: a signed PEC
-- receipt said the answer was not delivered, for good (non-accettazione,
-- errore-consegna, rilevazione-virus, a preavviso with 5.4.1).
ALTER TABLE outbox ADD COLUMN authenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN undelivered INTEGER NOT NULL DEFAULT 0;
DROP INDEX outbox_rcpt;
CREATE INDEX outbox_rcpt ON outbox (rcpt, authenticated, created_at);
CREATE INDEX outbox_undelivered ON outbox (created_at) WHERE undelivered = 1;
