// Package gateway starts an in-process gatewayd for tests, with the
// example rules, the golden mails and a recording SMTP sink: the helpers
// that the intake, outbox and deadlines tests share.
package gateway

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/intake"
	"gatewayd/internal/outbox"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/triage"
)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Running is a daemon started in-process by a test.
type Running struct {
	D      *daemon.Daemon
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Start opens and runs a daemon on cfg (now nil: the system clock; cls
// nil: the rules' classifier); it is stopped when the test ends.
func Start(t *testing.T, cfg *config.Config, now clock.Clock, cls triage.Classifier) *Running {
	t.Helper()
	return StartLogged(t, cfg, now, cls, nil)
}

// StartLogged is Start with the daemon's log written to logw too.
func StartLogged(t *testing.T, cfg *config.Config, now clock.Clock, cls triage.Classifier, logw io.Writer) *Running {
	t.Helper()
	if logw == nil {
		logw = io.Discard
	}
	if os.Getenv("GATEWAYD_TEST_LOG") != "" {
		logw = io.MultiWriter(logw, os.Stderr)
	}
	d := &daemon.Daemon{Config: cfg, Log: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: now, Backoff: intake.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		OutboxBackoff: outbox.Backoff{Base: 100 * time.Millisecond, Max: 300 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Open(ctx); err != nil {
		t.Fatalf("opening daemon: %v", err)
	}
	if cls != nil {
		d.SetClassifier(cls)
	}
	r := &Running{D: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop cancels the daemon and waits for it to return.
func (r *Running) Stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("daemon stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("daemon did not stop within 30s of cancel")
		}
	})
}

// WaitMoved waits until want sightings are recorded as moved.
func WaitMoved(t *testing.T, db *sql.DB, want int, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
		return n == want, fmt.Sprintf("%d of %d moved", n, want)
	})
}

// FerraraRules copies rules/ferrara to a temporary directory, trusting the
// golden test CA and extraRoots (PEM), and returns it.
func FerraraRules(t *testing.T, extraRoots ...[]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(Root(), "rules", "ferrara"))); err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(Root(), "testdata", "triage", "pec-root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range extraRoots {
		root = append(append(root, '\n'), r...)
	}
	os.WriteFile(filepath.Join(dir, "test-root.pem"), root, 0o644)
	uf := filepath.Join(dir, "ufficio.yaml")
	b, _ := os.ReadFile(uf)
	os.WriteFile(uf, []byte(strings.Replace(string(b), "ancore_fiducia: []", "ancore_fiducia: [test-root.pem]", 1)), 0o644)
	return dir
}

// GoldenMail reads testdata/triage/NAME.eml.
func GoldenMail(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(Root(), "testdata", "triage", name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// StartSink starts a recording SMTP server, closed when the test ends.
func StartSink(t *testing.T) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
