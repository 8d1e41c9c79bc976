package outbox

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/protocol"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
)

// flakyRecord fails the first n records of a sent answer, as a busy or
// full disk would.
type flakyRecord struct {
	Queue
	n atomic.Int32
}

func (f *flakyRecord) EndAttempt(ctx context.Context, it store.OutboxItem, state, errText string) error {
	if state == store.OutSent && f.n.Add(-1) >= 0 {
		return errors.New("database is locked")
	}
	return f.Queue.EndAttempt(ctx, it, state, errText)
}

// TestSender_recordsWhatWasSent: the SMTP server accepted the answer but
// the store failed to record it, thirty times (longer than any fixed
// insistence): the sender sends nothing until it is recorded, so it is
// delivered once.
func TestSender_recordsWhatWasSent(t *testing.T) {
	defer func(p time.Duration) { storePause = p }(storePause)
	storePause = 20 * time.Millisecond
	st := oneQueued(t)
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	q := &flakyRecord{Queue: st}
	q.n.Store(30)
	s := &Sender{Store: q, Accounts: map[string]*config.SMTP{"gc": account(sink, "plain", nil, "", "")}, Log: slog.New(slog.DiscardHandler),
		Backoff: Backoff{Base: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	s.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	var state string
	for time.Now().Before(deadline) {
		st.DB().QueryRow(`SELECT state FROM outbox`).Scan(&state)
		if state == store.OutSent {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // three backoffs: a resend would have happened
	cancel()
	<-done
	if state != store.OutSent || len(sink.Messages()) != 1 {
		t.Fatalf("state %q, %d deliveries; want sent, once", state, len(sink.Messages()))
	}
}

// oneQueued opens a store holding one queued answer (outbox row 1).
func oneQueued(t *testing.T) *store.Store {
	t.Helper()
	f, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(context.Background(), store.Options{StateDir: t.TempDir(), Office: "FE", Format: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.DB().Exec(`INSERT INTO messages (id, sha256, spool_segment, spool_offset, size, stored_size, mailbox, received_at,
		recorded_at, outcome) VALUES (1, 'x', '', 0, 1, 1, 'gc', '2026-12-04T10:00:00Z', '2026-12-04T10:00:00Z', 'accepted')`); err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.Enqueue(ctx, store.Mail{Message: 1, Mailbox: "gc", Kind: "accettazione", MessageID: "a1@inps.it",
			From: "GestioneCredito.Ferrara@inps.it", To: "studio@example.it", Raw: item.Raw, State: store.OutQueued})
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSender_expiryFromRelease: a mail created ten days ago (a shadow
// trial's answer) and released today is not given up on at its first
// temporary error: its retries count from the release; one never put
// back is.
func TestSender_expiryFromRelease(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens: a temporary failure
	acct := &config.SMTP{Server: config.Server{Host: "127.0.0.1", Port: addr.Port, TLS: "plain"}, From: "GestioneCredito.Ferrara@inps.it"}
	for _, released := range []bool{true, false} {
		st := oneQueued(t)
		old := time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
		queued := ""
		if released {
			queued = time.Now().UTC().Format(time.RFC3339Nano)
		}
		if _, err := st.DB().Exec(`UPDATE outbox SET created_at = ?, queued_at = ?`, old, queued); err != nil {
			t.Fatal(err)
		}
		s := &Sender{Store: st, Accounts: map[string]*config.SMTP{"gc": acct}, Log: slog.New(slog.DiscardHandler)}
		s.Init()
		if _, err := s.step(context.Background(), s.Log); err != nil {
			t.Fatal(err)
		}
		var state string
		st.DB().QueryRow(`SELECT state FROM outbox`).Scan(&state)
		if want := map[bool]string{true: store.OutQueued, false: store.OutFailed}[released]; state != want {
			t.Errorf("released %v: state %q after a refused connection, want %q", released, state, want)
		}
	}
}
