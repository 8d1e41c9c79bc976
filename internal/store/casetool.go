package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CaseTool is the operators' access to the cases beside the running
// daemon: no state-directory lock, SQLite serialises the writes.
type CaseTool struct {
	db       *sql.DB
	now      func() time.Time
	stateDir string
}

// OpenCaseTool opens stateDir's database for the case commands.
func OpenCaseTool(stateDir string, now func() time.Time) (*CaseTool, error) {
	db, err := openUnlocked(stateDir, "mode=rw&_busy_timeout=15000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &CaseTool{db: db, now: now, stateDir: stateDir}, nil
}

// Close closes the database.
func (c *CaseTool) Close() error { return c.db.Close() }

// Update runs f in one write transaction.
func (c *CaseTool) Update(ctx context.Context, f func(ctx context.Context, tx *Tx) error) error {
	return update(ctx, c.db, c.now, f)
}

// Cases lists cases, newest first: of a mailbox (name; "" all) and a state
// filter (open, overdue, waiting, closed — closed includes answered; ""
// all).
func (c *CaseTool) Cases(ctx context.Context, mailbox, state string, limit int) ([]Case, error) {
	q := `SELECT ` + caseCols + ` FROM cases WHERE (? = '' OR mailbox = ? OR lower(address) = lower(?))`
	args := []any{mailbox, mailbox, mailbox}
	switch state {
	case "":
	case CaseClosed:
		q += ` AND state IN ('closed', 'answered')`
	default:
		q += ` AND state = ?`
		args = append(args, state)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	return queryCases(ctx, c.db, q, append(args, limit)...)
}

// Case returns a case by protocol number, with the levels taken.
func (c *CaseTool) Case(ctx context.Context, protocol string) (Case, []Step, error) {
	var k Case
	var steps []Step
	err := c.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		if k, err = tx.CaseByProtocol(ctx, protocol); err != nil {
			return err
		}
		steps, err = tx.StepsOf(ctx, k.ID)
		return err
	})
	if err != nil {
		return k, nil, fmt.Errorf("reading case: %w", err)
	}
	return k, steps, nil
}

// SenderDelays counts the requests of the office a sender let their term
// pass on, over all their cases (D3; Milan 2.G flags repeated delays): the
// waiting rounds (attesa@DAY) in which a level fell due, mailed or not.
func (c *CaseTool) SenderDelays(ctx context.Context, sender string) (int, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT count(DISTINCT s.case_id || ' ' || s.ladder) FROM case_steps s
		JOIN cases c ON c.id = s.case_id WHERE lower(c.sender) = lower(?) AND s.ladder LIKE 'attesa@%'`, sender).Scan(&n)
	return n, err
}
