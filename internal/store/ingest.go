package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/spool"
	"gatewayd/internal/triage"
)

// Item is one fetched message, inspected and classified, ready to record.
type Item struct {
	UID          uint32
	InternalDate time.Time
	Size         int64     // RFC822.SIZE
	Body         spool.Ref // the bytes kept (the header only when Truncated)
	Truncated    bool
	Facts        mailparse.Facts
	Problem      *mailparse.Problem // non-nil: quarantined, Decision ignored
	Decision     triage.Decision
}

// Result says what was recorded for one item.
type Result struct {
	UID       uint32
	Message   int64
	Outcome   triage.Outcome
	Reasons   []string
	Protocol  string // label, for accepted messages
	Due       string // YYYY-MM-DD, for accepted messages
	SeenAgain bool   // the message was already known: nothing new assigned
	// Kept: the message stays in the watched folder (recorded as left in
	// place): a mail the shadow trial numbered, seen again once live — the
	// staff handled it outside the gateway, and no folder may say otherwise.
	Kept bool
}

// FollowupFunc says what follows one recorded item: the mails that answer
// it and the case it opens (nil: nothing). It is the answer policy's and
// the deadlines': pure, no SQL; the store records what it returns.
type FollowupFunc func(r Result, it Item) Followup

// Ingest makes the batch's spool segment durable, then records the items in
// one transaction: message, sighting, decision, protocol number, events,
// the mails that answer them, and the mailbox's new last UID. An item whose
// sighting is already recorded returns its earlier result; a known message
// (same Message-ID and SHA-256) seen under a new UID is recorded as seen
// again, with no new number and no new answer.
func (s *Store) Ingest(ctx context.Context, mailbox string, f Folder, seg *spool.Segment, items []Item, mails FollowupFunc) ([]Result, error) {
	if err := seg.Commit(); err != nil {
		return nil, fmt.Errorf("storing message bodies: %w", err)
	}
	var results []Result
	err := s.Update(ctx, func(ctx context.Context, t *Tx) error {
		var err error
		results, err = s.ingestBatch(ctx, t, mailbox, f, seg, items, mails)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ingesting: %w", err)
	}
	return results, nil
}

func (s *Store) ingestBatch(ctx context.Context, t *Tx, mailbox string, f Folder, seg *spool.Segment, items []Item, mails FollowupFunc) ([]Result, error) {
	tx, now := t.tx, t.now
	if _, err := tx.ExecContext(ctx, `INSERT INTO spool_segments (name, size, created_at) VALUES (?, ?, ?)`,
		seg.Name, seg.Size(), ts(now)); err != nil {
		return nil, fmt.Errorf("recording spool segment: %w", err)
	}
	seen, err := recordedUIDs(ctx, tx, mailbox, f, items)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(items))
	var maxUID uint32
	for _, it := range items {
		r, err := s.ingestOne(ctx, t, mailbox, f, it, seen[it.UID], mails)
		if err != nil {
			return nil, fmt.Errorf("recording uid %d: %w", it.UID, err)
		}
		results = append(results, r)
		maxUID = max(maxUID, it.UID)
	}
	if s.numbering.Shadow { // nothing moves: no move is ever pending for a trial's mail, even after a crash
		for _, r := range results {
			var msg int64
			err := tx.QueryRowContext(ctx, `UPDATE sightings SET moved_to = '', moved_at = ?
				WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ? AND moved_at IS NULL RETURNING message`,
				ts(now), mailbox, f.Name, f.UIDValidity, r.UID).Scan(&msg)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("leaving uid %d in place: %w", r.UID, err)
			}
			if err := addEvents(ctx, tx, now, msg, mailbox, event{"left-in-place", map[string]any{"uid": r.UID, "why": "shadow mode"}}); err != nil {
				return nil, err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mailbox_state (mailbox, folder, uidvalidity, last_uid, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET last_uid = max(last_uid, excluded.last_uid), updated_at = excluded.updated_at
		WHERE folder = excluded.folder AND uidvalidity = excluded.uidvalidity`, mailbox, f.Name, f.UIDValidity, maxUID, ts(now)); err != nil {
		return nil, fmt.Errorf("advancing last uid: %w", err)
	}
	return results, nil
}

func (s *Store) ingestOne(ctx context.Context, t *Tx, mailbox string, f Folder, it Item, recorded bool, mails FollowupFunc) (Result, error) {
	tx, now := t.tx, t.now
	r := Result{UID: it.UID}
	if recorded {
		prior, recordedID, recordedSHA, err := sightingResult(ctx, tx, mailbox, f, it.UID)
		same := recordedID == it.Facts.MessageID && (recordedID != "" || recordedSHA == it.Body.SHA256)
		if err != nil || same {
			return prior, err
		}
		// The UID names another message than the one recorded under it (a
		// server that gave UIDs again under the same UIDVALIDITY): the old
		// sighting is forgotten, with an event, and the message judged.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sightings WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ?`,
			mailbox, f.Name, f.UIDValidity, it.UID); err != nil {
			return r, fmt.Errorf("forgetting a sighting its UID no longer names: %w", err)
		}
		if err := addEvents(ctx, tx, now, prior.Message, mailbox, event{"sighting-replaced", map[string]any{
			"folder": f.Name, "uidvalidity": f.UIDValidity, "uid": it.UID, "now_message_id": it.Facts.MessageID}}); err != nil {
			return r, err
		}
	}
	id, outcome, err := knownMessage(ctx, tx, it.Facts.MessageID, it.Body.SHA256)
	if err != nil {
		return r, err
	}
	if id != 0 {
		r.Message, r.Outcome, r.SeenAgain = id, outcome, true
		r.Protocol, err = protocolOf(ctx, tx, id)
		if err == nil {
			err = tx.QueryRowContext(ctx, `SELECT due FROM messages WHERE id = ?`, id).Scan(&r.Due)
		}
		if err != nil {
			return r, err
		}
		if err := insertSighting(ctx, tx, mailbox, f, it.UID, id, now); err != nil {
			return r, err
		}
		seen := event{"seen-again", map[string]any{"folder": f.Name, "uidvalidity": f.UIDValidity, "uid": it.UID, "outcome": outcome, "protocol": r.Protocol}}
		trial, err := seenByTrial(ctx, tx, id, r.Protocol)
		if err != nil {
			return r, err
		}
		if !s.numbering.Shadow && trial {
			r.Kept = true
			if _, err := tx.ExecContext(ctx, `UPDATE sightings SET moved_to = '', moved_at = ? WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ?`,
				ts(now), mailbox, f.Name, f.UIDValidity, it.UID); err != nil {
				return r, fmt.Errorf("keeping a shadow trial's mail in place: %w", err)
			}
			return r, addEvents(ctx, tx, now, id, mailbox, seen, event{"left-in-place", map[string]any{"uid": it.UID,
				"why": "seen by the shadow trial, which left it in place: handled outside the gateway"}})
		}
		return r, addEvents(ctx, tx, now, id, mailbox, seen)
	}
	r, err = s.recordNew(ctx, t, mailbox, f, it)
	if err != nil || it.Problem != nil {
		return r, err
	}
	if ref := it.Decision.PECRef; ref != "" {
		if _, err := linkReceipt(ctx, tx, it.Decision, now, mailbox); err != nil {
			return r, err
		}
	}
	if mails == nil {
		return r, nil
	}
	return r, t.Follow(ctx, mailbox, r, mails(r, it))
}

// Follow records what follows a recorded message, in the transaction: a
// follow-up's effect on its case, the case it opens, and its mails.
func (t *Tx) Follow(ctx context.Context, mailbox string, r Result, f Followup) error {
	if f.Then != nil {
		if err := f.Then(ctx, t); err != nil {
			return err
		}
	}
	var caseID int64
	if f.Case != nil && r.Protocol != "" {
		var err error
		if caseID, err = t.openCase(ctx, r.Message, mailbox, r.Protocol, *f.Case); err != nil {
			return err
		}
	}
	for _, m := range f.Mails {
		if err := t.Enqueue(ctx, m); err != nil {
			return err
		}
		if caseID != 0 {
			if err := t.LinkCase(ctx, m.MessageID, caseID); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordNew inserts a message never seen before with its decision.
func (s *Store) recordNew(ctx context.Context, t *Tx, mailbox string, f Folder, it Item) (Result, error) {
	tx, now := t.tx, t.now
	r := Result{UID: it.UID, Outcome: it.Decision.Outcome, Reasons: it.Decision.Reasons, Due: it.Decision.Due}
	if it.Problem != nil {
		r.Outcome, r.Reasons, r.Due = triage.Quarantined, []string{it.Problem.Reason}, ""
	}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	reasons, _ := json.Marshal(r.Reasons)
	decision, _ := json.Marshal(it.Decision)
	res, err := tx.ExecContext(ctx, `INSERT INTO messages (sha256, spool_segment, spool_offset, size, stored_size, truncated,
		message_id, mailbox, from_addr, to_addr, subject, date_header, received_at, recorded_at, outcome, reasons,
		codice_fiscale, gestione, due, decision)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.Body.SHA256, it.Body.Segment, it.Body.Offset, it.Size, it.Body.Size, it.Truncated, it.Facts.MessageID, mailbox,
		clip(it.Facts.From), clip(it.Facts.To), clip(it.Facts.Subject), clip(it.Facts.Date),
		ts(it.InternalDate), ts(now), string(r.Outcome), string(reasons),
		it.Decision.CodiceFiscale, it.Decision.Gestione, r.Due, string(decision))
	if err != nil {
		return r, fmt.Errorf("inserting message: %w", err)
	}
	if r.Message, err = res.LastInsertId(); err != nil {
		return r, err
	}
	if err := insertSighting(ctx, tx, mailbox, f, it.UID, r.Message, now); err != nil {
		return r, err
	}
	events := []event{{"received", map[string]any{
		"folder": f.Name, "uidvalidity": f.UIDValidity, "uid": it.UID, "size": it.Size, "sha256": it.Body.SHA256,
		"internal_date": ts(it.InternalDate), "message_id": it.Facts.MessageID}}}
	switch {
	case it.Problem != nil:
		events = append(events, event{"quarantined", map[string]any{
			"reason": it.Problem.Reason, "detail": it.Problem.Detail, "truncated": it.Truncated}})
	case it.Decision.FollowsUp != "":
		r.Due = ""
		events = append(events, classified(r, it.Decision), event{"follow-up", map[string]any{"case": it.Decision.FollowsUp}})
	case r.Outcome == triage.Accepted:
		if r.Protocol, err = t.Register(ctx, s.numbering, r.Message, fieldsOf(mailbox, it)); err != nil {
			return r, err
		}
		events = append(events, classified(r, it.Decision), event{"protocolled", map[string]any{"protocol": r.Protocol, "due": r.Due}})
	default:
		events = append(events, classified(r, it.Decision))
	}
	return r, addEvents(ctx, tx, now, r.Message, mailbox, events...)
}

// seenByTrial reports a message the shadow trial handled and nothing
// registered since: numbered in it, or left in place by it (refused,
// ignored, quarantined: a left-in-place event, which outlives its
// sighting). Once live, seen again under another folder or UIDVALIDITY,
// it stays where the trial left it. A message with a live number (given
// since, by accept or redecide) is not the trial's any more.
func seenByTrial(ctx context.Context, tx *sql.Tx, message int64, protocol string) (bool, error) {
	if strings.HasPrefix(protocol, shadowPrefix) {
		return true, nil
	}
	if protocol != "" {
		return false, nil
	}
	var left bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE message = ? AND kind = 'left-in-place')`, message).Scan(&left)
	if err != nil {
		return false, fmt.Errorf("looking up the trial's sightings: %w", err)
	}
	return left, nil
}

// sightingResult is what a recorded sighting says of its UID, and the
// Message-ID and SHA-256 of the message recorded under it.
func sightingResult(ctx context.Context, tx *sql.Tx, mailbox string, f Folder, uid uint32) (r Result, messageID, sha string, err error) {
	r = Result{UID: uid, SeenAgain: true}
	var reasons string
	err = tx.QueryRowContext(ctx, `SELECT m.id, m.message_id, m.sha256, m.outcome, m.reasons, coalesce(p.label, ''), s.moved_at IS NOT NULL AND s.moved_to = ''
		FROM sightings s JOIN messages m ON m.id = s.message LEFT JOIN protocols p ON p.message = m.id
		WHERE s.mailbox = ? AND s.folder = ? AND s.uidvalidity = ? AND s.uid = ?`, mailbox, f.Name, f.UIDValidity, uid).
		Scan(&r.Message, &messageID, &sha, &r.Outcome, &reasons, &r.Protocol, &r.Kept)
	if err != nil {
		return r, "", "", fmt.Errorf("looking up sighting: %w", err)
	}
	json.Unmarshal([]byte(reasons), &r.Reasons)
	return r, messageID, sha, nil
}

func knownMessage(ctx context.Context, tx *sql.Tx, messageID, sha string) (int64, triage.Outcome, error) {
	var id int64
	var outcome triage.Outcome
	err := tx.QueryRowContext(ctx, `SELECT id, outcome FROM messages WHERE message_id = ? AND sha256 = ?`,
		messageID, sha).Scan(&id, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("looking up message: %w", err)
	}
	return id, outcome, nil
}

func protocolOf(ctx context.Context, tx *sql.Tx, message int64) (string, error) {
	var label string
	err := tx.QueryRowContext(ctx, `SELECT label FROM protocols WHERE message = ?`, message).Scan(&label)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return label, err
}

func insertSighting(ctx context.Context, tx *sql.Tx, mailbox string, f Folder, uid uint32, message int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sightings (mailbox, folder, uidvalidity, uid, message, seen_at)
		VALUES (?, ?, ?, ?, ?, ?)`, mailbox, f.Name, f.UIDValidity, uid, message, ts(now))
	if err != nil {
		return fmt.Errorf("inserting sighting: %w", err)
	}
	return nil
}

// classified is the event of a decision: the outcome, why, and what was
// understood of the subject.
func classified(r Result, d triage.Decision) event {
	detail := map[string]any{"outcome": r.Outcome, "reasons": r.Reasons}
	for k, v := range map[string]string{"codice_fiscale": d.CodiceFiscale, "invalid_value": d.InvalidValue,
		"gestione": d.Gestione, "summary": d.Summary, "right_mailbox": d.RightMailbox, "sender": d.Sender} {
		if v != "" {
			detail[k] = v
		}
	}
	if d.PEC != nil {
		detail["pec"] = d.PEC
	}
	return event{"classified", detail}
}

// event is one step to append to the log; detail is stored as JSON.
type event struct {
	kind   string
	detail map[string]any
}

// addEvents appends events of one message (0: none) in one statement, in
// order.
func addEvents(ctx context.Context, tx *sql.Tx, at time.Time, message int64, mailbox string, events ...event) error {
	var msg any
	if message != 0 {
		msg = message
	}
	q := strings.Builder{}
	q.WriteString(`INSERT INTO events (at, message, mailbox, kind, detail) VALUES `)
	args := make([]any, 0, 5*len(events))
	for i, e := range events {
		d, err := json.Marshal(e.detail)
		if err != nil {
			return fmt.Errorf("encoding event: %w", err)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, ts(at), msg, mailbox, e.kind, string(d))
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("appending %s event: %w", events[0].kind, err)
	}
	return nil
}

// recordedUIDs returns which of the items' UIDs already have a sighting
// (a batch fetched again after a crash between commit and move).
func recordedUIDs(ctx context.Context, tx *sql.Tx, mailbox string, f Folder, items []Item) (map[uint32]bool, error) {
	if len(items) == 0 {
		return nil, nil
	}
	lo, hi := items[0].UID, items[0].UID
	for _, it := range items {
		lo, hi = min(lo, it.UID), max(hi, it.UID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT uid FROM sightings WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid BETWEEN ? AND ?`,
		mailbox, f.Name, f.UIDValidity, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("looking up sightings: %w", err)
	}
	defer rows.Close()
	seen := map[uint32]bool{}
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, fmt.Errorf("reading sightings: %w", err)
		}
		seen[uid] = true
	}
	return seen, rows.Err()
}

// clip bounds a header value kept in a column (the full header stays in the spool).
func clip(s string) string {
	n := 998
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
