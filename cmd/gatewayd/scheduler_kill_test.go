package main

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// TestBinary_SIGKILLScheduler kills the built daemon at random moments
// while its first pass takes the sollecito of 40 overdue cases and the
// outbox sends them: every step is taken once (its UNIQUE key), every
// sollecito is delivered, and a resend after a crash carries the same
// Message-ID.
func TestBinary_SIGKILLScheduler(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	const total = 40
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	c := srv.Client("gc", "pw")
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	for i := 0; i < total; i++ {
		dovecot.AppendAt(t, c, "INBOX", received, []byte(fmt.Sprintf("From: studio%d@example.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
			"Subject: RSSMRA85T10A562S - Artigiani - richiesta numero %d\r\nMessage-ID: <s%d@kill.test>\r\n"+
			"Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\ntesto\r\n", i, i, i)))
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
		Addr: srv.Addr(), User: "gc", Password: "pw", SMTPAddr: sink.Addr, Extra: "    sent_folder: none\n"})
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q\noutbox: {min_backoff: 200ms, max_backoff: 1s}", rulesDir))
	bin := buildBinary(t)
	db := testenv.OpenDB(t, state)
	clockEnv := "GATEWAYD_CLOCK=2026-12-09T08:30:00+01:00" // the sollecito's day
	// First the mails are taken in and answered, on the day they arrived.
	cmd := startDaemon(t, bin, cfg.File, state, "GATEWAYD_CLOCK=2026-11-23T10:05:00+01:00")
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE kind = 'accettazione' AND state = 'sent'`)
		return n == total, fmt.Sprintf("%d acknowledgments sent", n)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	sent := func() int {
		return testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE kind = 'sollecito' AND state = 'sent'`)
	}
	kills := killUntil(t, bin, cfg.File, state, sent, total, clockEnv)
	t.Logf("%d kills", kills)
	if n := testenv.Int(t, db, `SELECT count(*) FROM case_steps WHERE level = 'sollecito'`); n != total {
		t.Errorf("%d sollecito steps recorded, want %d", n, total)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE kind = 'sollecito'`); n != total {
		t.Errorf("%d sollecito mails enqueued, want %d", n, total)
	}
	perID := map[string]int{}
	for _, m := range sink.Messages() {
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Auto-Submitted") == "auto-generated" {
			perID[r.Header.Get("Message-Id")]++
		}
	}
	if len(perID) != total {
		t.Errorf("%d distinct solleciti received, want %d", len(perID), total)
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
