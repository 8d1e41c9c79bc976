package intake_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"gatewayd/internal/intake"
	"gatewayd/internal/protocol"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/triage"
)

// TestDovecot_followupPanicBlocksNothing: the answer or case of one
// message panics (a bug in a template's data, say): that message is
// recorded all the same, without them, the ones behind it go through, the
// case step's partial writes are undone, and no spool segment is left
// behind by the failed attempts.
func TestDovecot_followupPanicBlocksNothing(t *testing.T) {
	srv := startDovecot(t)
	msgs := testenv.Messages("fp", 6)
	dovecot.Append(t, srv.Client(testUser, testPass), "INBOX", msgs...)
	state := t.TempDir()
	cfg := testenv.Config(t, state, mailbox(srv, "", "    batch_size: 3\n"))
	f, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(context.Background(), store.Options{StateDir: state, Office: "FE", Format: f})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	poisoned := "fp-1@test.example.it"
	w := &intake.Watcher{Mailbox: cfg.Mailboxes[0], Store: st, Log: slog.New(slog.DiscardHandler),
		Backoff:    intake.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
		Classifier: func() triage.Classifier { return triage.AcceptAll{} },
		Followup: func(r store.Result, it store.Item) store.Followup {
			if it.Facts.MessageID == poisoned {
				panic("template data exploded")
			}
			if it.Facts.MessageID == "fp-4@test.example.it" { // a case effect that writes, then panics
				return store.Followup{Then: func(ctx context.Context, tx *store.Tx) error {
					if err := tx.Enqueue(ctx, store.Mail{Message: r.Message, Mailbox: "gestione-credito", Kind: "x",
						MessageID: "half-written@x", From: "a@b.it", To: "c@d.it", Raw: []byte("x"), State: store.OutHeld}); err != nil {
						return err
					}
					panic("case effect exploded")
				}}
			}
			return store.Followup{}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
		return n == 6, "all six moved"
	})
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 6)
	if n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE message_id = 'half-written@x'`); n != 0 {
		t.Error("the panicking case effect's write was kept")
	}
	files, _ := filepath.Glob(filepath.Join(state, "spool", "*", "*.seg"))
	if rows := testenv.Int(t, db, `SELECT count(*) FROM spool_segments WHERE name != ''`); len(files) != rows {
		t.Errorf("%d segment files, %d named by the store: failed attempts left segments behind", len(files), rows)
	}
}
