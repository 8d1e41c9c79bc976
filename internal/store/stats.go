package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gatewayd/internal/clock"
)

// Stats are the store's figures that metrics and health read at each
// scrape: all from indexed counts.
type Stats struct {
	Outbox       map[string]int // mails by state
	OldestQueued time.Time      // zero: none queued
	Undelivered  int
	Cases        map[string]int // by state
	StepsSent    map[string]int // deadline mails taken (not skipped), by level
	RegisterDays int            // daily registers produced
	HandedOver   int
	Pending      []RegisterDay // produced, not yet handed over
	// NextToProduce is the first day whose daily register is not produced
	// (zero: nothing registered yet): before today, it is late.
	NextToProduce time.Time
}

// Stats reads the store's figures.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Outbox: map[string]int{}, Cases: map[string]int{}, StepsSent: map[string]int{}}
	groups := []struct {
		q string
		m map[string]int
	}{
		{`SELECT state, count(*) FROM outbox GROUP BY state`, st.Outbox},
		{`SELECT state, count(*) FROM cases GROUP BY state`, st.Cases},
		{`SELECT level, count(*) FROM case_steps WHERE skipped = 0 GROUP BY level`, st.StepsSent},
	}
	for _, g := range groups {
		if err := countInto(ctx, s.db, g.q, g.m); err != nil {
			return st, err
		}
	}
	var oldest sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT min(max(created_at, queued_at)) FROM outbox WHERE state = 'queued'`).Scan(&oldest)
	if err == nil {
		st.OldestQueued = parseTS(oldest.String)
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE undelivered = 1`).Scan(&st.Undelivered)
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE handed_at != '') FROM register_days`).
			Scan(&st.RegisterDays, &st.HandedOver)
	}
	if err == nil {
		st.NextToProduce, err = nextToProduce(ctx, s.db)
	}
	if err != nil {
		return st, fmt.Errorf("reading store figures: %w", err)
	}
	st.Pending, err = s.PendingHandovers(ctx)
	return st, err
}

func countInto(ctx context.Context, db *sql.DB, q string, m map[string]int) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("reading store figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("reading store figures: %w", err)
		}
		m[k] = n
	}
	return rows.Err()
}

// OldestQueuedAge is how long the oldest queued mail has waited (0: none).
func (st Stats) OldestQueuedAge(now time.Time) time.Duration {
	if st.OldestQueued.IsZero() {
		return 0
	}
	return now.Sub(st.OldestQueued)
}

// nextToProduce is the day after the last daily register produced, or the
// first registration's day before any (zero: no registration).
func nextToProduce(ctx context.Context, db querier) (time.Time, error) {
	var last, first sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(day) FROM register_days`).Scan(&last); err != nil {
		return time.Time{}, err
	}
	if last.Valid {
		d, err := time.ParseInLocation(time.DateOnly, last.String, clock.Rome)
		return d.AddDate(0, 0, 1), err
	}
	if err := db.QueryRowContext(ctx, `SELECT min(assigned_at) FROM protocols WHERE register = ?`, RegisterLive).Scan(&first); err != nil {
		return time.Time{}, err
	}
	if !first.Valid {
		return time.Time{}, nil
	}
	return clock.Day(parseTS(first.String)), nil
}
