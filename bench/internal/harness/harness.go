// Package harness gives the Dovecot and test helpers (internal/testenv,
// internal/testenv/dovecot) what they need outside go test: the benches'
// testing.T, with a temporary directory removed at the end.
package harness

import (
	"database/sql"
	"fmt"
	"os"

	"gatewayd/internal/testenv"
)

// H stands in for testing.T in a bench program.
type H struct {
	Dir      string // the bench's temporary directory
	keep     bool
	cleanups []func()
	n        int
	dbs      map[string]*sql.DB
}

// New makes a harness whose directory is named after prefix; keep leaves
// the directory for a look afterwards.
func New(prefix string, keep bool) *H {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		panic(err)
	}
	return &H{Dir: dir, keep: keep}
}

// Helper does nothing.
func (h *H) Helper() {}

// Fatal stops the bench.
func (h *H) Fatal(args ...any) { h.die(fmt.Sprint(args...)) }

// Fatalf stops the bench.
func (h *H) Fatalf(format string, args ...any) { h.die(fmt.Sprintf(format, args...)) }

// Skip stops the bench: a bench cannot be skipped.
func (h *H) Skip(args ...any) { h.die(fmt.Sprint(args...)) }

func (h *H) die(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	h.Close()
	os.Exit(1)
}

// TempDir returns a new directory under the bench's own.
func (h *H) TempDir() string {
	h.n++
	d := fmt.Sprintf("%s/t%d", h.Dir, h.n)
	if err := os.MkdirAll(d, 0o755); err != nil {
		h.die(err.Error())
	}
	return d
}

// Cleanup registers f to run at Close, last first.
func (h *H) Cleanup(f func()) { h.cleanups = append(h.cleanups, f) }

// Close runs the cleanups and removes the directory unless kept.
func (h *H) Close() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
	if h.keep {
		fmt.Fprintln(os.Stderr, "kept", h.Dir)
		return
	}
	os.RemoveAll(h.Dir)
}

// DB opens a state directory's database once.
func (h *H) DB(state string) *sql.DB {
	if h.dbs == nil {
		h.dbs = map[string]*sql.DB{}
	}
	if d := h.dbs[state]; d != nil {
		return d
	}
	d := testenv.OpenDB(h, state)
	h.dbs[state] = d
	return d
}
