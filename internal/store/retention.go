package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"gatewayd/internal/spool"
)

// Purgeable is a message whose bytes the retention removes.
type Purgeable struct {
	ID       int64
	Protocol string
	Mailbox  string
	Outcome  string
	Segment  string
	Size     int64
	Since    time.Time // its case closed, or (without a case) it was decided
}

// ErrPurged means a message's bytes were removed under the retention rules.
var ErrPurged = errors.New("its bytes were removed under the retention rules")

// purgeableQuery lists the messages past the cutoff: those of a case
// closed or answered before it, and those without a case decided before
// it, unless a case they follow up is still open or closed after it.
const purgeableQuery = `
SELECT m.id, coalesce(p.label, ''), m.mailbox, m.outcome, m.spool_segment, m.stored_size,
	CASE WHEN c.id IS NULL THEN m.recorded_at WHEN c.closed_at != '' THEN c.closed_at ELSE c.replied_at END AS since
FROM messages m
LEFT JOIN protocols p ON p.message = m.id
LEFT JOIN cases c ON c.message = m.id
WHERE m.purged_at = ''
	AND (c.id IS NULL OR c.state IN ('closed', 'answered'))
	AND since < ?
	AND NOT EXISTS (SELECT 1 FROM case_links l JOIN cases o ON o.id = l.case_id
		WHERE l.message_id = m.message_id AND m.message_id != '' AND o.message != m.id
		AND (o.state NOT IN ('closed', 'answered') OR (CASE WHEN o.closed_at != '' THEN o.closed_at ELSE o.replied_at END) >= ?))`

func purgeable(ctx context.Context, db querier, cutoff time.Time) ([]Purgeable, error) {
	rows, err := db.QueryContext(ctx, purgeableQuery+` ORDER BY m.spool_segment, m.id`, ts(cutoff), ts(cutoff))
	if err != nil {
		return nil, fmt.Errorf("finding messages past retention: %w", err)
	}
	defer rows.Close()
	var out []Purgeable
	for rows.Next() {
		var p Purgeable
		var since string
		if err := rows.Scan(&p.ID, &p.Protocol, &p.Mailbox, &p.Outcome, &p.Segment, &p.Size, &since); err != nil {
			return nil, fmt.Errorf("finding messages past retention: %w", err)
		}
		p.Since = parseTS(since)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Purgeable lists the messages whose bytes are past the cutoff.
func (r *Reader) Purgeable(ctx context.Context, cutoff time.Time) ([]Purgeable, error) {
	return purgeable(ctx, r.db, cutoff)
}

// Purged says what a purge removed.
type Purged struct {
	Messages  int
	Segments  int   // segments compacted or removed
	Freed     int64 // bytes of segment files removed, less the survivors' copies
	Survivors int   // messages copied into new segments
}

// Purge removes the bytes of every message past the cutoff, segment by
// segment: the messages that stay are copied into a new segment, synced;
// one transaction then points them at it, marks the others purged and
// drops the old segment's row; only then is the old file unlinked. A crash
// at any point leaves either segment a file no row names, removed at the
// next start, and every message readable. Only under the state
// directory's lock (the daemon, or gatewayd purge when it is stopped).
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (Purged, error) {
	var res Purged
	items, err := purgeable(ctx, s.db, cutoff)
	if err != nil {
		return res, err
	}
	bySeg := map[string]map[int64]bool{}
	for _, it := range items {
		if bySeg[it.Segment] == nil {
			bySeg[it.Segment] = map[int64]bool{}
		}
		bySeg[it.Segment][it.ID] = true
	}
	segs := make([]string, 0, len(bySeg))
	for seg := range bySeg {
		segs = append(segs, seg)
	}
	sort.Strings(segs)
	for _, seg := range segs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, survivors, freed, err := s.compact(ctx, seg, bySeg[seg], cutoff)
		if errors.Is(err, errChanged) {
			continue // a message of the segment no longer qualifies: the next purge sees it again
		}
		if err != nil {
			return res, fmt.Errorf("compacting %s: %w", seg, err)
		}
		res.Messages, res.Survivors, res.Freed, res.Segments = res.Messages+n, res.Survivors+survivors, res.Freed+freed, res.Segments+1
	}
	n, freed, err := s.dropOrphans(ctx)
	res.Segments, res.Freed = res.Segments+n, res.Freed+freed
	return res, err
}

// errChanged means a segment's messages changed between the purge's list
// and its transaction.
var errChanged = errors.New("the segment's messages changed")

// dropOrphans removes the segments no message names: the bytes of
// messages seen again (a copy, a new UIDVALIDITY), which are never read.
func (s *Store) dropOrphans(ctx context.Context) (int, int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, size FROM spool_segments g WHERE name != ''
		AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.spool_segment = g.name)`)
	if err != nil {
		return 0, 0, fmt.Errorf("finding segments no message names: %w", err)
	}
	type orphan struct {
		name string
		size int64
	}
	var list []orphan
	for rows.Next() {
		var o orphan
		rows.Scan(&o.name, &o.size)
		list = append(list, o)
	}
	rows.Close()
	n, freed := 0, int64(0)
	for _, o := range list {
		err := s.Update(ctx, func(ctx context.Context, t *Tx) error {
			_, err := t.tx.ExecContext(ctx, `DELETE FROM spool_segments WHERE name = ?
				AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.spool_segment = ?)`, o.name, o.name)
			return err
		})
		if err != nil {
			return n, freed, fmt.Errorf("dropping segment %s: %w", o.name, err)
		}
		if err := s.spool.Remove(o.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, freed, err
		}
		n, freed = n+1, freed+o.size
	}
	return n, freed, nil
}

// stored is one message's place in a segment.
type stored struct {
	id  int64
	ref spool.Ref
}

// compact removes the purged messages of one segment.
func (s *Store) compact(ctx context.Context, seg string, purge map[int64]bool, cutoff time.Time) (int, int, int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, spool_offset, stored_size, sha256 FROM messages WHERE spool_segment = ? ORDER BY spool_offset`, seg)
	if err != nil {
		return 0, 0, 0, err
	}
	var keep []stored
	for rows.Next() {
		var st stored
		st.ref.Segment = seg
		if err := rows.Scan(&st.id, &st.ref.Offset, &st.ref.Size, &st.ref.SHA256); err != nil {
			rows.Close()
			return 0, 0, 0, err
		}
		if !purge[st.id] {
			keep = append(keep, st)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, 0, err
	}
	var oldSize int64
	if fi, err := os.Stat(s.spool.Path(seg)); err == nil {
		oldSize = fi.Size()
	}
	var newSeg *spool.Segment
	moved := map[int64]spool.Ref{}
	if len(keep) > 0 {
		if newSeg, err = s.spool.NewSegment(s.now()); err != nil {
			return 0, 0, 0, err
		}
		defer newSeg.Close()
		for _, st := range keep {
			ref, err := copyStored(s.spool, newSeg, st.ref)
			if err != nil {
				newSeg.Discard()
				return 0, 0, 0, err
			}
			moved[st.id] = ref
		}
		if err := newSeg.Commit(); err != nil {
			newSeg.Discard()
			return 0, 0, 0, err
		}
	}
	err = s.Update(ctx, func(ctx context.Context, t *Tx) error {
		// Checked again under the write lock: a message accepted again, or
		// a case reopened, since the list was made keeps its bytes.
		for id := range purge {
			var one int
			err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM (`+purgeableQuery+` AND m.id = ?)`, ts(cutoff), ts(cutoff), id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return errChanged
			}
			if err != nil {
				return err
			}
		}
		var now int
		if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE spool_segment = ?`, seg).Scan(&now); err != nil {
			return err
		}
		if now != len(purge)+len(moved) {
			return errChanged
		}
		if newSeg != nil {
			if _, err := t.tx.ExecContext(ctx, `INSERT INTO spool_segments (name, size, created_at) VALUES (?, ?, ?)`,
				newSeg.Name, newSeg.Size(), ts(t.now)); err != nil {
				return err
			}
		}
		for id, ref := range moved {
			if _, err := t.tx.ExecContext(ctx, `UPDATE messages SET spool_segment = ?, spool_offset = ? WHERE id = ?`,
				ref.Segment, ref.Offset, id); err != nil {
				return err
			}
		}
		for id := range purge {
			var mailbox string
			if err := t.tx.QueryRowContext(ctx, `UPDATE messages SET spool_segment = '', spool_offset = 0, purged_at = ?
				WHERE id = ? RETURNING mailbox`, ts(t.now), id).Scan(&mailbox); err != nil {
				return err
			}
			if err := addEvents(ctx, t.tx, t.now, id, mailbox, event{"purged", map[string]any{"why": "retention", "segment": seg}}); err != nil {
				return err
			}
		}
		_, err := t.tx.ExecContext(ctx, `DELETE FROM spool_segments WHERE name = ?`, seg)
		return err
	})
	if err != nil {
		if newSeg != nil {
			newSeg.Discard()
		}
		return 0, 0, 0, err
	}
	if err := s.spool.Remove(seg); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, 0, err // the row is gone: removed as a stray at the next start
	}
	var newSize int64
	if newSeg != nil {
		newSize = newSeg.Size()
	}
	return len(purge), len(keep), oldSize - newSize, nil
}

// copyStored copies one message into a new segment, checking its SHA-256.
func copyStored(sp *spool.Spool, dst *spool.Segment, ref spool.Ref) (spool.Ref, error) {
	r, err := sp.Open(ref)
	if err != nil {
		return spool.Ref{}, err
	}
	defer r.Close()
	w := dst.Begin(0)
	if _, err := io.Copy(w, r); err != nil {
		return spool.Ref{}, err
	}
	out := w.Close()
	if out.SHA256 != ref.SHA256 {
		return spool.Ref{}, fmt.Errorf("message at %s:%d: the stored bytes' SHA-256 is %s, %s was recorded", ref.Segment, ref.Offset, out.SHA256, ref.SHA256)
	}
	return out, nil
}
