package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// TestBinary_SIGKILLOutbox kills the daemon at random moments while it
// records mails and sends their answers: after restarts every answer is
// delivered, none lost; a resend happens only after a crash between the
// server's acceptance and the record of it, so the extra copies are at most
// the kills, and each carries the answer's own Message-ID.
func TestBinary_SIGKILLOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	const total = 40
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	c := srv.Client("gc", "pw")
	for i := 0; i < total; i++ {
		dovecot.Append(t, c, "INBOX", []byte(fmt.Sprintf("From: studio%d@example.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
			"Subject: RSSMRA85T10A562S - Artigiani - richiesta numero %d\r\nMessage-ID: <k%d@kill.test>\r\n"+
			"Date: Mon, 16 Nov 2026 10:00:00 +0100\r\n\r\ntesto\r\n", i, i, i)))
	}
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	rulesDir := t.TempDir()
	os.CopyFS(rulesDir, os.DirFS("../../rules/ferrara"))
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: "gc", Password: "pw", SMTPAddr: sink.Addr, Extra: "    batch_size: 3\n"})
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q\noutbox: {min_backoff: 200ms, max_backoff: 1s}", rulesDir))
	bin := buildBinary(t)
	db := testenv.OpenDB(t, state)
	sent := func() int { return testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE state = 'sent'`) }
	kills := killUntil(t, bin, cfg.File, state, sent, total)
	t.Logf("%d kills", kills)
	if kills < 5 {
		t.Errorf("only %d kills: the test did not exercise crashes", kills)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM outbox`); n != total {
		t.Errorf("%d answers enqueued, want %d", n, total)
	}
	perID := map[string]int{}
	for _, m := range sink.Messages() {
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		perID[r.Header.Get("Message-Id")]++
	}
	if len(perID) != total {
		t.Errorf("%d distinct answers received, want %d", len(perID), total)
	}
	extra := 0
	for _, n := range perID {
		extra += n - 1
	}
	t.Logf("%d extra copies (resends after a crash), %d kills", extra, kills)
	if extra > kills {
		t.Errorf("%d extra copies after %d kills: a resend without a crash", extra, kills)
	}
}
