package main

import (
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/testenv"
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
	o := newKillOffice(t, total, time.Time{}, "    batch_size: 3\n") // arrived now: no deadline falls due meanwhile
	sent := func() int { return testenv.Int(t, o.db, `SELECT count(*) FROM outbox WHERE state = 'sent'`) }
	kills := killUntil(t, o.bin, o.config, o.state, sent, total)
	t.Logf("%d kills", kills)
	if kills < 5 {
		t.Errorf("only %d kills: the test did not exercise crashes", kills)
	}
	if n := testenv.Int(t, o.db, `SELECT count(*) FROM outbox`); n != total {
		t.Errorf("%d answers enqueued, want %d", n, total)
	}
	o.checkResends(t, total, kills, func(*mail.Header) bool { return true })
}
