package intake_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/intake"
	"gatewayd/internal/outbox"
	"gatewayd/internal/testenv"
	"gatewayd/internal/triage"
)

// running is a daemon started in-process by a test.
type running struct {
	d      *daemon.Daemon
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start opens and runs a daemon on cfg; it is stopped when the test ends.
func start(t *testing.T, cfg *config.Config, now func() time.Time, cls triage.Classifier) *running {
	t.Helper()
	var logw io.Writer = io.Discard
	if os.Getenv("GATEWAYD_TEST_LOG") != "" {
		logw = os.Stderr
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
	r := &running{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the daemon and waits for it to return.
func (r *running) stop(t *testing.T) {
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

// waitMoved waits until want sightings are recorded as moved.
func waitMoved(t *testing.T, db *sql.DB, want int, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
		return n == want, fmt.Sprintf("%d of %d moved", n, want)
	})
}
