package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatewayd/internal/clock"
)

// Case states.
const (
	CaseOpen     = "open"     // the office owes a reply, not yet due
	CaseOverdue  = "overdue"  // the due date passed: the ladder has begun
	CaseWaiting  = "waiting"  // the office waits on the professional
	CaseAnswered = "answered" // the office replied (Sent folder): closed as answered
	CaseClosed   = "closed"   // closed by an operator, with an outcome
)

// Outcomes of a closed case.
const (
	OutcomeAnswered       = "answered"
	OutcomeUnsatisfactory = "unsatisfactory"
	OutcomeWithdrawn      = "withdrawn"
)

// ErrStepTaken is returned when a ladder level of a case was taken already.
var ErrStepTaken = errors.New("step already taken")

// NewCase opens a case beside an accepted message.
type NewCase struct {
	Address     string    // the mailbox's address
	Sender      string    // who wrote
	ReceivedDay time.Time // D
	Due         time.Time
	TermDays    int       // the working days to answer: the promise the acknowledgment made
	NextStep    time.Time // when the first step falls due (zero: none)
	Links       []string  // Message-IDs that lead to the case (the original's, …)
}

// Followup is what the answer policy and the deadlines add to a recorded
// message: the mails that answer it, and the case it opens.
type Followup struct {
	Mails []Mail
	Case  *NewCase
	// Then runs in the same transaction, after the message is recorded:
	// a follow-up's effect on its case (linked, and a wait ended).
	Then func(ctx context.Context, tx *Tx) error
}

// Case is a case as stored.
type Case struct {
	ID          int64
	Message     int64
	Mailbox     string
	Address     string
	Protocol    string
	Sender      string
	ReceivedDay time.Time
	Due         time.Time
	TermDays    int
	PausedDays  int
	State       string
	Outcome     string
	Ladder      string
	AnchorDay   time.Time
	Level       string
	NextStepAt  time.Time
	OpenedAt    time.Time
	RepliedAt   time.Time
	ClosedAt    time.Time
}

const caseCols = `id, message, mailbox, address, protocol, sender, received_day, due, term_days, paused_days, state, outcome, ladder,
	anchor_day, level, next_step_at, opened_at, replied_at, closed_at`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var recv, due, anchor, next, opened, replied, closed string
	err := row.Scan(&c.ID, &c.Message, &c.Mailbox, &c.Address, &c.Protocol, &c.Sender, &recv, &due, &c.TermDays, &c.PausedDays,
		&c.State, &c.Outcome, &c.Ladder, &anchor, &c.Level, &next, &opened, &replied, &closed)
	c.ReceivedDay, c.Due, c.AnchorDay = parseDay(recv), parseDay(due), parseDay(anchor)
	c.NextStepAt, c.OpenedAt, c.RepliedAt, c.ClosedAt = parseTS(next), parseTS(opened), parseTS(replied), parseTS(closed)
	return c, err
}

// Open reports a case the office still has to act on.
func (c Case) Open() bool {
	return c.State == CaseOpen || c.State == CaseOverdue || c.State == CaseWaiting
}

// openCase inserts the case of an accepted message in the transaction.
func (t *Tx) openCase(ctx context.Context, message int64, mailbox, protocol string, n NewCase) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO cases (message, mailbox, address, protocol, sender, received_day, due, term_days,
		state, next_step_at, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`, message, mailbox, n.Address, protocol, n.Sender,
		day(n.ReceivedDay), day(n.Due), n.TermDays, tsOrEmpty(n.NextStep), ts(t.now))
	if err != nil {
		return 0, fmt.Errorf("opening case: %w", err)
	}
	id, _ := res.LastInsertId()
	for _, l := range n.Links {
		if err := t.LinkCase(ctx, l, id); err != nil {
			return 0, err
		}
	}
	return id, addEvents(ctx, t.tx, t.now, message, mailbox, event{"case-opened", map[string]any{
		"case": id, "due": day(n.Due), "next_step": tsOrEmpty(n.NextStep)}})
}

// LinkCase records a Message-ID that leads to a case (first link wins).
func (t *Tx) LinkCase(ctx context.Context, messageID string, caseID int64) error {
	if messageID = strings.Trim(strings.TrimSpace(messageID), "<>"); messageID == "" {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO case_links (message_id, case_id) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		messageID, caseID); err != nil {
		return fmt.Errorf("linking case: %w", err)
	}
	return nil
}

// CaseEvent adds an event to a case's history (its message's events).
func (t *Tx) CaseEvent(ctx context.Context, c Case, kind string, detail map[string]any) error {
	detail["case"] = c.ID
	return addEvents(ctx, t.tx, t.now, c.Message, c.Mailbox, event{kind, detail})
}

// Now is the transaction's time.
func (t *Tx) Now() time.Time { return t.now }

// TakeStep records a ladder level of a case as taken (skipped: crossed
// while the daemon was down, not mailed), enqueues its mail (nil: none),
// and moves the case on: level, state, next step. A level taken before
// returns ErrStepTaken and changes nothing.
func (t *Tx) TakeStep(ctx context.Context, c Case, level string, dueDay time.Time, skipped bool, mail *Mail, next time.Time) error {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO case_steps (case_id, ladder, level, due_day, taken_at, skipped)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.ID, c.Ladder, level, day(dueDay), ts(t.now), skipped)
	if err != nil {
		return fmt.Errorf("recording step: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStepTaken
	}
	kind := map[bool]string{true: "step-skipped", false: "step-taken"}[skipped]
	detail := map[string]any{"ladder": c.Ladder, "level": level, "due_day": day(dueDay)}
	if mail != nil {
		mail.Case, mail.Message = c.ID, c.Message
		if err := t.Enqueue(ctx, *mail); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE case_steps SET outbox = ? WHERE case_id = ? AND ladder = ? AND level = ?`,
			t.lastOutbox, c.ID, c.Ladder, level); err != nil {
			return fmt.Errorf("recording step: %w", err)
		}
		detail["outbox"], detail["to"], detail["cc"] = t.lastOutbox, mail.To, mail.Cc
	}
	state := c.State
	if LadderKind(c.Ladder) == "risposta" && state == CaseOpen {
		state = CaseOverdue
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE cases SET level = ?, state = ?, next_step_at = ? WHERE id = ?`,
		level, state, tsOrEmpty(next), c.ID); err != nil {
		return fmt.Errorf("moving case on: %w", err)
	}
	return t.CaseEvent(ctx, c, kind, detail)
}

// SetNextStep records when a case's next step falls due (zero: none).
func (t *Tx) SetNextStep(ctx context.Context, c Case, next time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE cases SET next_step_at = ? WHERE id = ?`, tsOrEmpty(next), c.ID)
	return err
}

// Transition moves a case to another ladder or state: waiting on the
// professional (attesa), forwarded to the region (regione), back to the
// office's reply (risposta), answered or closed. The level restarts.
func (t *Tx) Transition(ctx context.Context, c Case, state, ladder string, anchor, next time.Time, why map[string]any) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE cases SET state = ?, ladder = ?, anchor_day = ?, level = ?, next_step_at = ? WHERE id = ?`,
		state, ladder, dayOrEmpty(anchor), levelAfter(c, ladder), tsOrEmpty(next), c.ID); err != nil {
		return fmt.Errorf("moving case: %w", err)
	}
	why["from"], why["to"], why["ladder"] = c.State, state, ladder
	return t.CaseEvent(ctx, c, "case-"+state, why)
}

// LadderKind is a case's ladder without its round: a ladder entered again
// (the office asks the professional a second time) is "attesa@DAY", so
// that each round's levels are taken once each.
func LadderKind(ladder string) string {
	k, _, _ := strings.Cut(ladder, "@")
	return k
}

// levelAfter keeps the level when the ladder stays, else starts anew.
func levelAfter(c Case, ladder string) string {
	if c.Ladder == ladder {
		return c.Level
	}
	return ""
}

// Close ends a case with an outcome, at a time (a reply found in Sent, or
// an operator's word).
func (t *Tx) Close(ctx context.Context, c Case, state, outcome string, at time.Time, why map[string]any) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE cases SET state = ?, outcome = ?, replied_at = ?, closed_at = ?, next_step_at = ''
		WHERE id = ?`, state, outcome, ts(at), ts(t.now), c.ID); err != nil {
		return fmt.Errorf("closing case: %w", err)
	}
	why["outcome"], why["replied_at"] = outcome, ts(at)
	return t.CaseEvent(ctx, c, "case-"+state, why)
}

// CaseByProtocol reads one case by its protocol number.
func (t *Tx) CaseByProtocol(ctx context.Context, protocol string) (Case, error) {
	c, err := scanCase(t.tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE protocol = ?`, protocol))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("case %s: %w", protocol, ErrNotFound)
	}
	return c, err
}

// CaseByID reads one case in the transaction.
func (t *Tx) CaseByID(ctx context.Context, id int64) (Case, error) {
	c, err := scanCase(t.tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return c, err
}

// FindCase returns the case a mail leads to: by one of its Message-IDs
// (In-Reply-To, References), else by a protocol number it names.
func (t *Tx) FindCase(ctx context.Context, messageIDs, protocols []string) (Case, bool, error) {
	return findCase(ctx, t.tx, messageIDs, protocols)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func findCase(ctx context.Context, db querier, messageIDs, protocols []string) (Case, bool, error) {
	for _, id := range messageIDs {
		c, err := scanCase(db.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id =
			(SELECT case_id FROM case_links WHERE message_id = ?)`, strings.Trim(id, "<> ")))
		if err == nil {
			return c, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Case{}, false, fmt.Errorf("finding case: %w", err)
		}
	}
	for _, p := range protocols {
		c, err := scanCase(db.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE protocol = ?`, p))
		if err == nil {
			return c, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Case{}, false, fmt.Errorf("finding case: %w", err)
		}
	}
	return Case{}, false, nil
}

// DueCases returns the ids of up to limit cases whose next step is due at
// now, the earliest first: a range of the cases_next_step index, which
// holds all it reads (each case is read again in the transaction that
// steps it).
func (s *Store) DueCases(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM cases WHERE next_step_at != '' AND next_step_at <= ?
		ORDER BY next_step_at, id LIMIT ?`, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("finding due cases: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("finding due cases: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// OpenCases returns the cases still open, for recomputing their dates
// when the calendar changes.
func (s *Store) OpenCases(ctx context.Context) ([]Case, error) {
	return queryCases(ctx, s.db, `SELECT `+caseCols+` FROM cases WHERE state IN ('open', 'overdue', 'waiting') ORDER BY id`)
}

func queryCases(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) ([]Case, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("reading cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StepsOf returns the levels taken of a case, in order.
func stepsOf(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, caseID int64) ([]Step, error) {
	rows, err := db.QueryContext(ctx, `SELECT ladder, level, due_day, taken_at, skipped FROM case_steps WHERE case_id = ?
		ORDER BY taken_at, rowid`, caseID)
	if err != nil {
		return nil, fmt.Errorf("reading steps: %w", err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var s Step
		var due, taken string
		if err := rows.Scan(&s.Ladder, &s.Level, &due, &taken, &s.Skipped); err != nil {
			return nil, err
		}
		s.DueDay, s.TakenAt = parseDay(due), parseTS(taken)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Step is a ladder level taken.
type Step struct {
	Ladder, Level string
	DueDay        time.Time
	TakenAt       time.Time
	Skipped       bool
}

// StepsOf returns the levels taken of a case.
func (t *Tx) StepsOf(ctx context.Context, caseID int64) ([]Step, error) {
	return stepsOf(ctx, t.tx, caseID)
}

func day(t time.Time) string {
	return t.In(clock.Rome).Format(time.DateOnly)
}

func dayOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return day(t)
}

func tsOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}

func parseDay(v string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, v, clock.Rome)
	if err != nil {
		return time.Time{}
	}
	return t
}

// CaseFacts are what a deadline mail says of a case's message.
type CaseFacts struct {
	Subject       string
	CodiceFiscale string
	MessageID     string // the original's (for a PEC, the message inside the envelope)
	ReceivedAt    time.Time
}

// CaseFacts reads the facts of a case's message.
func (t *Tx) CaseFacts(ctx context.Context, c Case) (CaseFacts, error) {
	var f CaseFacts
	var received string
	err := t.tx.QueryRowContext(ctx, `SELECT coalesce(json_extract(decision, '$.subject'), subject), codice_fiscale,
		coalesce(nullif(json_extract(decision, '$.original_id'), ''), message_id), received_at FROM messages WHERE id = ?`,
		c.Message).Scan(&f.Subject, &f.CodiceFiscale, &f.MessageID, &received)
	if err != nil {
		return f, fmt.Errorf("reading case %d's message: %w", c.ID, err)
	}
	f.ReceivedAt = parseTS(received)
	return f, nil
}

// SetDue records a due date moved — the calendar changed, or the office's
// term stood still while it waited (paused: the working days it waited) —
// and the next step it moves.
func (t *Tx) SetDue(ctx context.Context, c Case, due, next time.Time, paused int) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE cases SET due = ?, next_step_at = ?, paused_days = paused_days + ? WHERE id = ?`,
		day(due), tsOrEmpty(next), paused, c.ID); err != nil {
		return fmt.Errorf("moving the due date: %w", err)
	}
	return t.CaseEvent(ctx, c, "due-recomputed", map[string]any{"was": day(c.Due), "due": day(due), "next_step": tsOrEmpty(next),
		"paused_days": paused})
}

// SentState returns which Sent folder of a mailbox was read, under which
// UIDVALIDITY, up to which UID.
func (s *Store) SentState(ctx context.Context, mailbox string) (f Folder, lastUID uint32, known bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT folder, uidvalidity, last_uid FROM sent_state WHERE mailbox = ?`, mailbox).
		Scan(&f.Name, &f.UIDValidity, &lastUID)
	if errors.Is(err, sql.ErrNoRows) {
		return f, 0, false, nil
	}
	if err != nil {
		return f, 0, false, fmt.Errorf("reading Sent state: %w", err)
	}
	return f, lastUID, true, nil
}

// SetSentState records where the Sent folder f of a mailbox was read up to.
func (s *Store) SetSentState(ctx context.Context, mailbox string, f Folder, lastUID uint32) error {
	return s.Update(ctx, func(ctx context.Context, tx *Tx) error { return tx.SetSentState(ctx, mailbox, f, lastUID) })
}

// SetSentState records, in the transaction that records what a Sent
// message did to its case, that it was read: a crash between the two
// cannot read it twice.
func (t *Tx) SetSentState(ctx context.Context, mailbox string, f Folder, lastUID uint32) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO sent_state (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET folder = excluded.folder, uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
		updated_at = excluded.updated_at`, mailbox, f.Name, f.UIDValidity, lastUID, ts(t.now)); err != nil {
		return fmt.Errorf("recording Sent state: %w", err)
	}
	return nil
}

// CaseOf returns the open case a mail refers to: by a Message-ID (In-Reply-To,
// References: the original's, our acknowledgment's, an earlier
// follow-up's), else by a protocol number in its subject. Intake decides
// whether its sender may follow it up.
func (s *Store) CaseOf(ctx context.Context, ids, protocols []string) (Case, bool, error) {
	if len(ids) == 0 && len(protocols) == 0 {
		return Case{}, false, nil
	}
	c, ok, err := findCase(ctx, s.db, ids, nil) // reads only: no transaction, no fsync
	if err == nil && !ok {
		c, ok, err = findCase(ctx, s.db, nil, protocols)
	}
	return c, ok && c.Open(), err
}

// OwnMail reports a Message-ID the gateway itself sent (an answer or a
// deadline mail, as the outbox keeps it).
func (t *Tx) OwnMail(ctx context.Context, messageID string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE message_id = ?`, strings.Trim(messageID, "<> ")).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking own mail: %w", err)
	}
	return n > 0, nil
}
