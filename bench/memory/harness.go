package main

import (
	"fmt"
	"os"
)

// harness gives the Dovecot and test helpers (internal/testenv,
// internal/testenv/dovecot) what they need outside go test, as in
// bench/ingest.
type harness struct {
	dir      string
	keep     bool
	cleanups []func()
	n        int
}

func newHarness(keep bool) *harness {
	dir, err := os.MkdirTemp("", "gatewayd-bench-memory-")
	if err != nil {
		panic(err)
	}
	return &harness{dir: dir, keep: keep}
}

func (h *harness) Helper() {}

func (h *harness) Fatal(args ...any) { h.die(fmt.Sprint(args...)) }

func (h *harness) Fatalf(format string, args ...any) { h.die(fmt.Sprintf(format, args...)) }

func (h *harness) Skip(args ...any) { h.die(fmt.Sprint(args...)) }

func (h *harness) die(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	h.cleanup()
	os.Exit(1)
}

// TempDir returns a new directory under the bench's own.
func (h *harness) TempDir() string {
	h.n++
	d := fmt.Sprintf("%s/t%d", h.dir, h.n)
	if err := os.MkdirAll(d, 0o755); err != nil {
		h.die(err.Error())
	}
	return d
}

func (h *harness) Cleanup(f func()) { h.cleanups = append(h.cleanups, f) }

func (h *harness) cleanup() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
	if h.keep {
		fmt.Fprintln(os.Stderr, "kept", h.dir)
		return
	}
	os.RemoveAll(h.dir)
}
