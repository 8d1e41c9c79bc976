package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/testenv"
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
	o := newKillOffice(t, total, time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600)), "    sent_folder: none\n")
	// First the mails are taken in and answered, on the day they arrived.
	cmd := startDaemon(t, o.bin, o.config, o.state, "GATEWAYD_CLOCK=2026-11-23T10:05:00+01:00")
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		n := testenv.Int(t, o.db, `SELECT count(*) FROM outbox WHERE kind = 'accettazione' AND state = 'sent'`)
		return n == total, fmt.Sprintf("%d acknowledgments sent", n)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	// Then the kills, on the sollecito's day.
	sent := func() int {
		return testenv.Int(t, o.db, `SELECT count(*) FROM outbox WHERE kind = 'sollecito' AND state = 'sent'`)
	}
	kills := killUntil(t, o.bin, o.config, o.state, sent, total, "GATEWAYD_CLOCK=2026-12-09T08:30:00+01:00")
	t.Logf("%d kills", kills)
	if n := testenv.Int(t, o.db, `SELECT count(*) FROM case_steps WHERE level = 'sollecito'`); n != total {
		t.Errorf("%d sollecito steps recorded, want %d", n, total)
	}
	if n := testenv.Int(t, o.db, `SELECT count(*) FROM outbox WHERE kind = 'sollecito'`); n != total {
		t.Errorf("%d sollecito mails enqueued, want %d", n, total)
	}
	o.checkResends(t, total, kills, func(h *mail.Header) bool { return h.Get("Auto-Submitted") == "auto-generated" })
}
