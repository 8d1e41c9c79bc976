package outbox

import (
	"context"
	"errors"
	"log/slog"
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
	f, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(context.Background(), store.Options{StateDir: t.TempDir(), Office: "FE", Format: f})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
