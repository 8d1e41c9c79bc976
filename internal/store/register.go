package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/protocol"
)

// The registers a number comes from: the legal protocol register, and the
// shadow mode's own sequence, which the daily register ignores.
const (
	RegisterLive   = "protocollo"
	RegisterShadow = "shadow"
)

// Numbering says how the store gives protocol numbers: the office (the
// counter's key), the label format, and whether numbers come from the
// shadow sequence (labels SHADOW.{office}.{year}.{number:7}).
type Numbering struct {
	Office string
	Format protocol.Format
	Shadow bool
}

// shadowPrefix starts every shadow-mode label.
const shadowPrefix = "SHADOW."

// ShadowLabel is the label of a shadow-mode number: never mistaken for a
// number of the register.
func ShadowLabel(office string, year, n int) string {
	return fmt.Sprintf(shadowPrefix+"%s.%d.%07d", office, year, n)
}

// IsShadowLabel reports whether a label is a shadow-mode number's.
func IsShadowLabel(label string) bool { return strings.HasPrefix(label, shadowPrefix) }

// Registration is one line of the protocol register (DPR 445/2000 art.
// 53): written once, never changed; annulled or amended beside it.
type Registration struct {
	Label      string
	Register   string
	Year       int
	Number     int
	Message    int64
	At         time.Time // date and time of registration
	Mailbox    string
	Sender     string // mittente, as registered (for PEC: daticert's)
	Subject    string // oggetto, as registered
	SenderDate string // the sender's own date, where present
	SenderRef  string // the sender's reference: PEC identificativo, else Message-ID
	SHA256     string // fingerprint of the message as received
	Annulment  *Annulment
	Amendments []Amendment
}

// CurrentSender is the sender after the amendments, the registered one if none.
func (r Registration) CurrentSender() string { return r.current("sender", r.Sender) }

// CurrentSubject is the subject after the amendments.
func (r Registration) CurrentSubject() string { return r.current("subject", r.Subject) }

func (r Registration) current(field, v string) string {
	for _, a := range r.Amendments {
		if a.Field == field {
			v = a.New
		}
	}
	return v
}

// Annulment is a registration's annulment (art. 54; DPCM 2013 art. 8).
type Annulment struct {
	Protocol      string
	At            time.Time
	By            string
	Reason        string
	Provvedimento string
}

// Amendment is a correction of a registration's sender or subject, the
// old value kept beside the new.
type Amendment struct {
	Protocol string
	Field    string // sender or subject
	Old, New string
	At       time.Time
	By       string
	Reason   string
}

// RegistrationFields are what a registration records of its message.
type RegistrationFields struct {
	Mailbox, Sender, Subject, SenderDate, SenderRef, SHA256 string
}

// fieldsOf takes the registration fields from a recorded item: the signed
// content for a PEC (daticert's mittente and identificativo, the
// original's subject and date), the headers otherwise.
func fieldsOf(mailbox string, it Item) RegistrationFields {
	d := it.Decision
	f := RegistrationFields{Mailbox: mailbox, Sender: d.Sender, Subject: d.Subject, SenderDate: d.OriginalDate,
		SenderRef: d.OriginalID, SHA256: it.Body.SHA256}
	if f.Sender == "" {
		f.Sender = it.Facts.From
	}
	if f.Subject == "" {
		f.Subject = it.Facts.Subject
	}
	if f.SenderDate == "" {
		f.SenderDate = it.Facts.Date
	}
	if d.PEC != nil && d.PEC.Identificativo != "" {
		f.SenderRef = d.PEC.Identificativo
	}
	if f.SenderRef == "" {
		f.SenderRef = it.Facts.MessageID
	}
	return f
}

// Register gives the message the next number of the current year, in
// the caller's transaction, and writes its registration: counter, number
// and fields commit together with the decision (art. 53 c.3), so numbers
// are gapless and never given twice.
func (t *Tx) Register(ctx context.Context, n Numbering, message int64, f RegistrationFields) (string, error) {
	year := protocol.Year(t.now)
	register := RegisterLive
	if n.Shadow {
		register = RegisterShadow
	} else if err := t.registerOpen(ctx); err != nil {
		return "", err // a clock behind the register: nothing is registered until it is right
	}
	var num int
	err := t.tx.QueryRowContext(ctx, `INSERT INTO protocol_counters (office, register, year, last) VALUES (?, ?, ?, 1)
		ON CONFLICT (office, register, year) DO UPDATE SET last = last + 1 RETURNING last`, n.Office, register, year).Scan(&num)
	if err != nil {
		return "", fmt.Errorf("advancing protocol counter: %w", err)
	}
	label := n.Format.Label(n.Office, year, num)
	if n.Shadow {
		label = ShadowLabel(n.Office, year, num)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO protocols (office, register, year, number, label, message, assigned_at,
		mailbox, sender, subject, sender_date, sender_ref, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.Office, register, year, num, label, message, ts(t.now), f.Mailbox, clip(f.Sender), clip(f.Subject),
		clip(f.SenderDate), clip(f.SenderRef), f.SHA256); err != nil {
		return "", fmt.Errorf("recording protocol %s: %w", label, err)
	}
	return label, nil
}

// StartAt makes next the first live number of the current year, to go on
// with a register kept before the gateway. Refused once a live number of
// the year was given: the register has no gaps and no number twice.
func (t *Tx) StartAt(ctx context.Context, office string, next int) error {
	if next < 1 {
		return fmt.Errorf("the first number must be 1 or more")
	}
	year := protocol.Year(t.now)
	var given int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM protocols WHERE office = ? AND register = ? AND year = ?`,
		office, RegisterLive, year).Scan(&given); err != nil {
		return fmt.Errorf("counting registrations: %w", err)
	}
	if given > 0 {
		return fmt.Errorf("%d numbers of %d are already given: the register goes on from them", given, year)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO protocol_counters (office, register, year, last) VALUES (?, ?, ?, ?)
		ON CONFLICT (office, register, year) DO UPDATE SET last = excluded.last`, office, RegisterLive, year, next-1); err != nil {
		return fmt.Errorf("setting protocol counter: %w", err)
	}
	return addEvents(ctx, t.tx, t.now, 0, "", event{"register-start", map[string]any{"year": year, "first": next}})
}

// Registration reads a registration with its annulment and amendments.
func (t *Tx) Registration(ctx context.Context, label string) (Registration, error) {
	return registration(ctx, t.tx, label)
}

const registrationCols = `label, register, year, number, message, assigned_at, mailbox, sender, subject, sender_date, sender_ref, sha256`

func scanRegistration(row interface{ Scan(...any) error }) (Registration, error) {
	var r Registration
	var at string
	err := row.Scan(&r.Label, &r.Register, &r.Year, &r.Number, &r.Message, &at, &r.Mailbox, &r.Sender, &r.Subject,
		&r.SenderDate, &r.SenderRef, &r.SHA256)
	r.At = parseTS(at)
	return r, err
}

func registration(ctx context.Context, db querier, label string) (Registration, error) {
	r, err := scanRegistration(db.QueryRowContext(ctx, `SELECT `+registrationCols+` FROM protocols WHERE label = ?`,
		strings.ToUpper(strings.TrimSpace(label))))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("protocol %s: %w", label, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading protocol %s: %w", label, err)
	}
	if r.Annulment, err = annulmentOf(ctx, db, r.Label); err != nil {
		return r, err
	}
	r.Amendments, err = amendments(ctx, db, `WHERE protocol = ?`, r.Label)
	return r, err
}

func annulmentOf(ctx context.Context, db querier, label string) (*Annulment, error) {
	a := Annulment{Protocol: label}
	var at string
	err := db.QueryRowContext(ctx, `SELECT at, by, reason, provvedimento FROM annulments WHERE protocol = ?`, label).
		Scan(&at, &a.By, &a.Reason, &a.Provvedimento)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading annulment: %w", err)
	}
	a.At = parseTS(at)
	return &a, nil
}

func amendments(ctx context.Context, db querier, where string, args ...any) ([]Amendment, error) {
	rows, err := db.QueryContext(ctx, `SELECT protocol, field, old, new, at, by, reason FROM amendments `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading amendments: %w", err)
	}
	defer rows.Close()
	var out []Amendment
	for rows.Next() {
		var a Amendment
		var at string
		if err := rows.Scan(&a.Protocol, &a.Field, &a.Old, &a.New, &at, &a.By, &a.Reason); err != nil {
			return nil, fmt.Errorf("reading amendments: %w", err)
		}
		a.At = parseTS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Annul annuls a live registration (art. 54): the data stay, the number
// is never given again, and the annulment is recorded with who, when, why
// and the authorising act. Its case, if open, is closed by the caller.
func (t *Tx) Annul(ctx context.Context, label, by, reason, provvedimento string) (Registration, error) {
	r, err := t.Registration(ctx, label)
	if err != nil {
		return r, err
	}
	switch {
	case r.Register != RegisterLive:
		return r, fmt.Errorf("%s is a shadow-mode number, not a registration: there is nothing to annul", r.Label)
	case r.Annulment != nil:
		return r, fmt.Errorf("protocol %s was already annulled on %s", r.Label, r.Annulment.At.Format(time.DateOnly))
	case strings.TrimSpace(reason) == "" || strings.TrimSpace(provvedimento) == "" || strings.TrimSpace(by) == "":
		return r, fmt.Errorf("an annulment needs who, a reason and the authorising act (provvedimento)")
	}
	if err := t.registerOpen(ctx); err != nil {
		return r, err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO annulments (protocol, at, by, reason, provvedimento) VALUES (?, ?, ?, ?, ?)`,
		r.Label, ts(t.now), by, reason, provvedimento); err != nil {
		return r, fmt.Errorf("recording annulment: %w", err)
	}
	r.Annulment = &Annulment{Protocol: r.Label, At: t.now, By: by, Reason: reason, Provvedimento: provvedimento}
	return r, addEvents(ctx, t.tx, t.now, r.Message, r.Mailbox, event{"annulled", map[string]any{
		"protocol": r.Label, "by": by, "reason": reason, "provvedimento": provvedimento}})
}

// registerOpen refuses a change dated on a day whose daily register is
// already produced (a clock behind the register's): the day's file could
// not hold it.
func (t *Tx) registerOpen(ctx context.Context) error {
	if t.openChecked {
		return nil
	}
	last, ok, err := t.LastRegisterDay(ctx)
	if err != nil {
		return err
	}
	if today := clock.Day(t.now); ok && !today.After(last.Day) {
		return fmt.Errorf("the daily register of %s is already produced and this machine's clock says %s: check the clock",
			last.Day.Format(time.DateOnly), t.now.In(clock.Rome).Format(time.DateTime))
	}
	t.openChecked = true
	return nil
}

// Amend corrects a registration's sender or subject, keeping the old
// value beside the new one.
func (t *Tx) Amend(ctx context.Context, label, field, value, by, reason string) (Registration, error) {
	r, err := t.Registration(ctx, label)
	if err != nil {
		return r, err
	}
	var old string
	switch field {
	case "sender":
		old = r.CurrentSender()
	case "subject":
		old = r.CurrentSubject()
	default:
		return r, fmt.Errorf("only the sender or the subject can be amended, not %q", field)
	}
	switch {
	case r.Register != RegisterLive:
		return r, fmt.Errorf("%s is a shadow-mode number, not a registration: there is nothing to amend", r.Label)
	case r.Annulment != nil:
		return r, fmt.Errorf("protocol %s is annulled", r.Label)
	case strings.TrimSpace(value) == "" || strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "":
		return r, fmt.Errorf("an amendment needs the new value, who and a reason")
	case value == old:
		return r, fmt.Errorf("the %s of %s is already %q", field, r.Label, value)
	}
	if err := t.registerOpen(ctx); err != nil {
		return r, err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO amendments (protocol, field, old, new, at, by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Label, field, old, clip(value), ts(t.now), by, reason); err != nil {
		return r, fmt.Errorf("recording amendment: %w", err)
	}
	r.Amendments = append(r.Amendments, Amendment{Protocol: r.Label, Field: field, Old: old, New: value, At: t.now, By: by, Reason: reason})
	return r, addEvents(ctx, t.tx, t.now, r.Message, r.Mailbox, event{"amended", map[string]any{
		"protocol": r.Label, "field": field, "old": old, "new": value, "by": by, "reason": reason}})
}

// EndShadowCases closes the open cases of shadow-mode numbers: the daemon
// runs live, and the trial's cases must take no step (their held mails
// stay held for outbox release --held). It returns how many it closed.
func (s *Store) EndShadowCases(ctx context.Context) (int, error) {
	n := 0
	err := s.Update(ctx, func(ctx context.Context, t *Tx) error {
		rows, err := t.tx.QueryContext(ctx, `SELECT c.id FROM cases c JOIN protocols p ON p.label = c.protocol
			WHERE p.register = ? AND c.state IN ('open', 'overdue', 'waiting')`, RegisterShadow)
		if err != nil {
			return fmt.Errorf("finding shadow cases: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			c, err := t.CaseByID(ctx, id)
			if err != nil {
				return err
			}
			if err := t.Close(ctx, c, CaseClosed, "shadow", t.now, map[string]any{"by": "gatewayd", "why": "the shadow trial ended: the daemon runs live"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// FirstAnswer returns the state and reason of the first mail that
// answered a message ("" when none): later mails to the same sender
// follow its verdict (a suppressed acknowledgment, a forged sender).
func (t *Tx) FirstAnswer(ctx context.Context, message int64) (string, string, error) {
	var state, reason string
	err := t.tx.QueryRowContext(ctx, `SELECT state, reason FROM outbox WHERE message = ? AND case_id IS NULL ORDER BY id LIMIT 1`, message).
		Scan(&state, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading the first answer: %w", err)
	}
	return state, reason, nil
}
