// Package store is gatewayd's only speaker of SQL: messages and where they
// were seen, decisions, protocol numbers, the append-only event log and the
// per-mailbox sync state, in one SQLite file beside a spool of raw messages.
//
// Every decision is recorded, and every protocol number given, in the same
// transaction; so a crash at any moment leaves either all of it or none.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"gatewayd/internal/clock"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver (cgo)

	"gatewayd/internal/protocol"
	"gatewayd/internal/spool"
)

// Options configure a Store.
type Options struct {
	StateDir string          // holds gatewayd.db, spool/ and the lock file
	Office   string          // office code, the protocol counter's key
	Format   protocol.Format // protocol label format
	Shadow   bool            // numbers from the shadow sequence (SHADOW.…)
	Now      clock.Clock
}

// Store is the state of one gatewayd instance.
type Store struct {
	db        *sql.DB
	spool     *spool.Spool
	lock      *os.File
	numbering Numbering
	now       func() time.Time // the clock's Now
}

// ErrLocked means another gatewayd holds the state directory.
var ErrLocked = errors.New("state directory is in use by another gatewayd")

// Open locks the state directory, opens the database and applies pending
// migrations.
func Open(ctx context.Context, o Options) (*Store, error) {
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state dir: %w", err)
	}
	if err := tighten(o.StateDir); err != nil {
		return nil, err
	}
	lock, err := lockDir(o.StateDir)
	if err != nil {
		return nil, err
	}
	removeStaleBackups(o.StateDir)
	s := &Store{lock: lock, numbering: Numbering{Office: o.Office, Format: o.Format, Shadow: o.Shadow}, now: o.Now.Now}
	if err := s.open(ctx, o.StateDir); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, dir string) error {
	sp, err := spool.Open(filepath.Join(dir, "spool"))
	if err != nil {
		return err
	}
	s.spool = sp
	dsn := "file:" + filepath.Join(dir, "gatewayd.db") +
		"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=15000&_foreign_keys=on&_txlock=immediate&_stmt_cache_size=64"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	s.db = db
	if err := migrate(ctx, db, s.now); err != nil {
		db.Close()
		return err
	}
	if err := s.removeStraySegments(ctx); err != nil {
		db.Close()
		return err
	}
	return nil
}

// removeStraySegments deletes the segment files no committed row names:
// a crash came between writing them and committing their batch. Only safe
// under the state directory's lock, which Open holds.
func (s *Store) removeStraySegments(ctx context.Context) error {
	files, err := s.spool.Segments()
	if err != nil {
		return fmt.Errorf("listing spool: %w", err)
	}
	for _, f := range files {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM spool_segments WHERE name = ?`, f).Scan(&n); err != nil {
			return fmt.Errorf("checking spool segment: %w", err)
		}
		if n == 0 {
			if err := s.spool.Remove(f); err != nil {
				return fmt.Errorf("removing stray spool segment: %w", err)
			}
		}
	}
	return nil
}

// lockDir takes an exclusive, non-blocking lock on dir/gatewayd.lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "gatewayd.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
	}
	return f, nil
}

// Close closes the database and releases the lock.
func (s *Store) Close() error {
	err := s.db.Close()
	s.lock.Close()
	return err
}

// Spool returns the raw message spool.
func (s *Store) Spool() *spool.Spool { return s.spool }

// DB returns the database handle, for read-only reports and tests.
func (s *Store) DB() *sql.DB { return s.db }

// ts formats an instant for storage: RFC 3339 in UTC, sortable as text.
func ts(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// parseTS parses a stored instant; an empty string is the zero time.
func parseTS(v string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, v)
	return t
}

// removeStaleBackups removes what a backup killed half way left in the
// state directory (its database copy holds personal data); a backup
// running beside this start is younger than a day and is left alone.
func removeStaleBackups(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, ".backup-*"))
	for _, p := range stale {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
			os.RemoveAll(p)
		}
	}
}
