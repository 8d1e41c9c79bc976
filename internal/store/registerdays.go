package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatewayd/internal/clock"
)

// RegisterEntries are the daily register's lines of one day: the live
// registrations made that day, and the annulments and amendments made that
// day to registrations of any day.
type RegisterEntries struct {
	Registrations []Registration
	Annulments    []Annulment
	Amendments    []Amendment
}

// RegisterDay is a daily register produced: its fingerprints and its
// handover to conservation.
type RegisterDay struct {
	Day         time.Time // midnight, Europe/Rome
	First, Last string
	Count       int
	CSVSHA256   string
	JSONSHA256  string
	ProducedAt  time.Time
	HandedAt    time.Time // zero until handed over
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// dayBounds are a Rome day's first instant and the next day's, stored form.
func dayBounds(day time.Time) (string, string) {
	d := clock.Day(day)
	return ts(d), ts(d.AddDate(0, 0, 1))
}

// entries reads one day's register lines.
func entries(ctx context.Context, db querier, day time.Time) (RegisterEntries, error) {
	var e RegisterEntries
	from, to := dayBounds(day)
	rows, err := db.QueryContext(ctx, `SELECT `+registrationCols+` FROM protocols WHERE register = ? AND assigned_at >= ? AND assigned_at < ?
		ORDER BY year, number`, RegisterLive, from, to)
	if err != nil {
		return e, fmt.Errorf("reading registrations: %w", err)
	}
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			rows.Close()
			return e, fmt.Errorf("reading registrations: %w", err)
		}
		e.Registrations = append(e.Registrations, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e, err
	}
	rows, err = db.QueryContext(ctx, `SELECT a.protocol, a.at, a.by, a.reason, a.provvedimento FROM annulments a
		JOIN protocols p ON p.label = a.protocol WHERE p.register = 'protocollo' AND a.at >= ? AND a.at < ? ORDER BY a.at, a.protocol`, from, to)
	if err != nil {
		return e, fmt.Errorf("reading annulments: %w", err)
	}
	for rows.Next() {
		var a Annulment
		var at string
		if err := rows.Scan(&a.Protocol, &at, &a.By, &a.Reason, &a.Provvedimento); err != nil {
			rows.Close()
			return e, fmt.Errorf("reading annulments: %w", err)
		}
		a.At = parseTS(at)
		e.Annulments = append(e.Annulments, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e, err
	}
	e.Amendments, err = amendments(ctx, db, `WHERE at >= ? AND at < ? AND protocol IN (SELECT label FROM protocols WHERE register = 'protocollo')`, from, to)
	return e, err
}

// RegisterEntries reads one day's register lines, in the transaction.
func (t *Tx) RegisterEntries(ctx context.Context, day time.Time) (RegisterEntries, error) {
	return entries(ctx, t.tx, day)
}

// RegisterEntries reads one day's register lines.
func (r *Reader) RegisterEntries(ctx context.Context, day time.Time) (RegisterEntries, error) {
	return entries(ctx, r.db, day)
}

// FirstRegisterDay is the day of the first live registration; ok is false
// when there is none yet.
func (t *Tx) FirstRegisterDay(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullString
	if err := t.tx.QueryRowContext(ctx, `SELECT min(assigned_at) FROM protocols WHERE register = ?`, RegisterLive).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("reading first registration: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return clock.Day(parseTS(at.String)), true, nil
}

const registerDayCols = `day, first, last, count, csv_sha256, json_sha256, produced_at, handed_at, attempts, next_attempt, last_error`

func scanRegisterDay(row interface{ Scan(...any) error }) (RegisterDay, error) {
	var d RegisterDay
	var day, produced, handed, next string
	err := row.Scan(&day, &d.First, &d.Last, &d.Count, &d.CSVSHA256, &d.JSONSHA256, &produced, &handed, &d.Attempts, &next, &d.LastError)
	d.Day, _ = time.ParseInLocation(time.DateOnly, day, clock.Rome)
	d.ProducedAt, d.HandedAt, d.NextAttempt = parseTS(produced), parseTS(handed), parseTS(next)
	return d, err
}

func registerDays(ctx context.Context, db querier, where string, args ...any) ([]RegisterDay, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+registerDayCols+` FROM register_days `+where+` ORDER BY day`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading daily registers: %w", err)
	}
	defer rows.Close()
	var out []RegisterDay
	for rows.Next() {
		d, err := scanRegisterDay(rows)
		if err != nil {
			return nil, fmt.Errorf("reading daily registers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// LastRegisterDay is the last daily register produced; ok is false before the first.
func (t *Tx) LastRegisterDay(ctx context.Context) (RegisterDay, bool, error) {
	d, err := scanRegisterDay(t.tx.QueryRowContext(ctx, `SELECT `+registerDayCols+` FROM register_days ORDER BY day DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("reading last daily register: %w", err)
	}
	return d, true, nil
}

// RecordRegisterDay records a daily register produced, due for handover now.
func (t *Tx) RecordRegisterDay(ctx context.Context, d RegisterDay) error {
	t.openChecked = false
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO register_days (day, first, last, count, csv_sha256, json_sha256, produced_at, next_attempt)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.Day.Format(time.DateOnly), d.First, d.Last, d.Count, d.CSVSHA256, d.JSONSHA256,
		ts(t.now), ts(t.now)); err != nil {
		return fmt.Errorf("recording daily register %s: %w", d.Day.Format(time.DateOnly), err)
	}
	return addEvents(ctx, t.tx, t.now, 0, "", event{"register-day", map[string]any{
		"day": d.Day.Format(time.DateOnly), "count": d.Count, "csv_sha256": d.CSVSHA256, "json_sha256": d.JSONSHA256}})
}

// RegisterDays lists the daily registers produced, oldest first.
func (s *Store) RegisterDays(ctx context.Context) ([]RegisterDay, error) {
	return registerDays(ctx, s.db, "")
}

// RegisterDays lists the daily registers produced, oldest first.
func (r *Reader) RegisterDays(ctx context.Context) ([]RegisterDay, error) {
	return registerDays(ctx, r.db, "")
}

// PendingHandovers are the daily registers not yet handed over, oldest first.
func (s *Store) PendingHandovers(ctx context.Context) ([]RegisterDay, error) {
	return registerDays(ctx, s.db, `WHERE handed_at = ''`)
}

// NextHandover is when the next pending handover falls due; ok is false when none is pending.
func (s *Store) NextHandover(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_attempt) FROM register_days WHERE handed_at = ''`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("reading pending handovers: %w", err)
	}
	return parseTS(next.String), next.Valid, nil
}

// HandedOver records a successful handover.
func (s *Store) HandedOver(ctx context.Context, day time.Time, detail string) error {
	return s.Update(ctx, func(ctx context.Context, t *Tx) error {
		if _, err := t.tx.ExecContext(ctx, `UPDATE register_days SET handed_at = ?, attempts = attempts + 1, last_error = ''
			WHERE day = ?`, ts(t.now), day.Format(time.DateOnly)); err != nil {
			return fmt.Errorf("recording handover: %w", err)
		}
		return addEvents(ctx, t.tx, t.now, 0, "", event{"register-handed-over", map[string]any{
			"day": day.Format(time.DateOnly), "detail": detail}})
	})
}

// HandoverFailed records a failed handover and when to try again.
func (s *Store) HandoverFailed(ctx context.Context, day time.Time, next time.Time, cause error) error {
	return s.Update(ctx, func(ctx context.Context, t *Tx) error {
		if _, err := t.tx.ExecContext(ctx, `UPDATE register_days SET attempts = attempts + 1, next_attempt = ?, last_error = ?
			WHERE day = ?`, ts(next), clip(cause.Error()), day.Format(time.DateOnly)); err != nil {
			return fmt.Errorf("recording failed handover: %w", err)
		}
		return addEvents(ctx, t.tx, t.now, 0, "", event{"register-handover-failed", map[string]any{
			"day": day.Format(time.DateOnly), "err": cause.Error(), "next_attempt": ts(next)}})
	})
}

// Registration reads a registration with its annulment and amendments.
func (r *Reader) Registration(ctx context.Context, label string) (Registration, error) {
	return registration(ctx, r.db, label)
}

// Fingerprint recomputes the SHA-256 of a message's stored bytes.
func (r *Reader) Fingerprint(ctx context.Context, id int64) (string, error) {
	f, _, _, err := r.Stored(ctx, id)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return hashOf(f)
}

// RegistrationsOn lists the labels of a day's live registrations, in the
// database as it is now (registro verify compares them with the file).
func (r *Reader) RegistrationsOn(ctx context.Context, day time.Time) ([]Registration, error) {
	e, err := entries(ctx, r.db, day)
	return e.Registrations, err
}

// PurgeRecorded reports whether a message's bytes were removed by a
// recorded purge (an event the retention wrote), not just marked so.
func (r *Reader) PurgeRecorded(ctx context.Context, id int64) (bool, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE message = ? AND kind = 'purged'`, id).Scan(&n)
	return n > 0, err
}

// FirstRegistrationBefore returns the first live registration dated
// before t (ok false: none).
func (r *Reader) FirstRegistrationBefore(ctx context.Context, t time.Time) (Registration, bool, error) {
	reg, err := scanRegistration(r.db.QueryRowContext(ctx, `SELECT `+registrationCols+` FROM protocols
		WHERE register = ? AND assigned_at < ? ORDER BY assigned_at LIMIT 1`, RegisterLive, ts(t)))
	if errors.Is(err, sql.ErrNoRows) {
		return reg, false, nil
	}
	return reg, err == nil, err
}
