package intake_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/clock"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
	"gatewayd/internal/triage"
)

const (
	testUser = "gestionecredito"
	testPass = "segreta"
)

func startDovecot(t *testing.T) *dovecot.Server {
	return dovecot.Start(t, map[string]string{testUser: testPass})
}

func mailbox(srv *dovecot.Server, folder, extra string) testenv.Mailbox {
	return testenv.Mailbox{Name: "gestione-credito", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: testUser, Password: testPass, Folder: folder, Extra: extra}
}

// TestDovecot_500Messages: each of 500 messages is protocolled once,
// numbers 1..500 without gaps, and all are moved out of INBOX.
func TestDovecot_500Messages(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	dovecot.Append(t, c, "INBOX", testenv.Messages("m500", 500)...)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "", "")), nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 500, 60*time.Second)
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 500)
	if n := dovecot.Count(t, c, "INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages, want 0", n)
	}
	if n := dovecot.Count(t, c, "gatewayd/accepted"); n != 500 {
		t.Errorf("gatewayd/accepted holds %d messages, want 500", n)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'protocolled'`); n != 500 {
		t.Errorf("%d protocolled events, want 500", n)
	}
}

// TestDovecot_ServerRestart: Dovecot goes away for a while and comes back;
// the daemon reconnects by itself and nothing is lost or doubled.
func TestDovecot_ServerRestart(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	dovecot.Append(t, c, "INBOX", testenv.Messages("before", 50)...)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "", "")), nil, nil)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM protocols`)
		return n == 50, fmt.Sprintf("%d of 50 protocolled", n)
	})
	srv.Stop()
	time.Sleep(2 * time.Second) // the daemon fails to reconnect meanwhile
	if n := testenv.Int(t, db, `SELECT attempts FROM mailbox_state`); n < 1 {
		t.Errorf("no failed attempt recorded while Dovecot was down")
	}
	srv.Restart()
	c = srv.Client(testUser, testPass)
	dovecot.Append(t, c, "INBOX", testenv.Messages("after", 50)...)
	gateway.WaitMoved(t, db, 100, 30*time.Second)
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 100)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) { // the round records its success once its last batch is moved
		n := testenv.Int(t, db, `SELECT attempts FROM mailbox_state`)
		return n == 0, fmt.Sprintf("attempts = %d after recovery, want 0", n)
	})
	if n := dovecot.Count(t, c, "INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages, want 0", n)
	}
}

// TestDovecot_UIDValidityChange: the watched folder is deleted and created
// again with the same messages; none is protocolled a second time.
func TestDovecot_UIDValidityChange(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	msgs := testenv.Messages("uv", 20)
	dovecot.Append(t, c, "Intake", msgs...)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "Intake", "")), nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 20, 30*time.Second)
	if err := c.Delete("Intake").Wait(); err != nil {
		t.Fatalf("deleting Intake: %v", err)
	}
	dovecot.Append(t, c, "Intake", msgs...) // recreated: a new UIDVALIDITY
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'seen-again'`)
		return n == 20, fmt.Sprintf("%d of 20 seen again", n)
	})
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 20)
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'uidvalidity-changed'`); n != 1 {
		t.Errorf("%d uidvalidity-changed events, want 1", n)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := dovecot.Count(t, c, "Intake")
		return n == 0, fmt.Sprintf("Intake still holds %d", n)
	})
	testenv.Eventually(t, 10*time.Second, func() (bool, string) { // a STATUS may lag the MOVE under load
		n := dovecot.Count(t, c, "gatewayd/accepted")
		return n == 40, fmt.Sprintf("accepted folder holds %d, want 40 (the 20 again beside the first)", n)
	})
}

// TestDovecot_FolderChanged: a mailbox pointed at another folder that
// has the old folder's UIDVALIDITY (doveadm gives it) reads the new folder
// from its first message: its UIDs never pass for the old folder's
// sightings, every message of it is recorded and numbered once.
func TestDovecot_FolderChanged(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	dovecot.Append(t, c, "Intake", testenv.Messages("fold-a", 5)...)
	state := t.TempDir()
	run := gateway.Start(t, testenv.Config(t, state, mailbox(srv, "Intake", "")), nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 5, 30*time.Second)
	run.Stop(t)

	dovecot.Append(t, c, "Intake2", testenv.Messages("fold-b", 5)...)
	srv.SetUIDValidity(testUser, "Intake2", dovecot.UIDValidity(t, c, "Intake"))
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "Intake2", "")), nil, nil)
	gateway.WaitMoved(t, db, 10, 30*time.Second)
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 10)
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'seen-again'`); n != 0 {
		t.Errorf("%d messages of the new folder taken for the old one's", n)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'uidvalidity-changed' AND detail LIKE '%"old_folder":"Intake"%'`); n != 1 {
		t.Errorf("%d uidvalidity-changed events naming the old folder, want 1", n)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := dovecot.Count(t, c, "Intake2")
		return n == 0, fmt.Sprintf("Intake2 still holds %d", n)
	})
}

// panicky panics on one subject, to show a parser failure is contained.
type panicky struct{}

func (panicky) Classify(in triage.Input) triage.Decision {
	if strings.Contains(in.Facts.Subject, "PANIC") {
		panic("classifier exploded")
	}
	return triage.AcceptAll{}.Classify(in)
}

// TestDovecot_BadInput: each kind of bad input ends in quarantine with its
// reason, and the next good message is still protocolled.
func TestDovecot_BadInput(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	good := testenv.Message("good-after", 2000)
	cases := []struct {
		name, reason string
		raw          []byte
	}{
		{"no message-id", mailparse.ReasonMissingMessageID, []byte("From: a@example.it\r\nSubject: x\r\n\r\nbody\r\n")},
		{"broken mime", mailparse.ReasonMalformedMIME, []byte("From: a@example.it\r\nMessage-ID: <bm@x>\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nx\r\n--other--\r\n")},
		{"8-bit junk", mailparse.ReasonHeaderEncoding, []byte("From: a@example.it\r\nSubject: caf\xe8 \xff\r\nMessage-ID: <j@x>\r\n\r\nbody\r\n")},
		{"empty", mailparse.ReasonEmpty, []byte("\r\n")},
		{"over the cap", mailparse.ReasonOverSizeCap, testenv.Message("big", 300_000)},
		{"parser failure", mailparse.ReasonParserFailure, []byte("From: a@example.it\r\nSubject: PANIC\r\nMessage-ID: <p@x>\r\n\r\nbody\r\n")},
		{"no header end", mailparse.ReasonMalformedHeader, []byte("From: a@example.it\r\nthis line is no header\r\n\r\n")},
	}
	for _, tc := range cases {
		dovecot.Append(t, c, "INBOX", tc.raw)
	}
	dovecot.Append(t, c, "INBOX", good)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "", "    max_message_size: 100KB\n")), nil, panicky{})
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
		return n == len(cases)+1, fmt.Sprintf("%d of %d moved", n, len(cases)+1)
	})
	for i, tc := range cases {
		var outcome, reasons string
		db.QueryRow(`SELECT m.outcome, m.reasons FROM messages m JOIN sightings s ON s.message = m.id WHERE s.uid = ?`, i+1).
			Scan(&outcome, &reasons)
		if outcome != "quarantined" || reasons != `["`+tc.reason+`"]` {
			t.Errorf("%s: outcome %s %s, want quarantined [%s]", tc.name, outcome, reasons, tc.reason)
		}
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'quarantined'`); n != len(cases) {
		t.Errorf("%d quarantined events, want %d", n, len(cases))
	}
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), 1)
	if n := dovecot.Count(t, c, "gatewayd/quarantine"); n != len(cases) {
		t.Errorf("quarantine folder holds %d, want %d", n, len(cases))
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE truncated = 1`); n != 1 {
		t.Errorf("%d truncated messages, want 1 (the one over the cap)", n)
	}
}

// TestDovecot_YearRollover: the first message protocolled after midnight
// of 31 December (Europe/Rome) gets number 1 of the new year.
func TestDovecot_YearRollover(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	clk := clock.NewSettable(time.Date(2026, 12, 31, 23, 59, 58, 0, clock.Rome))
	dovecot.Append(t, c, "INBOX", testenv.Messages("old-year", 3)...)
	state := t.TempDir()
	gateway.Start(t, testenv.Config(t, state, mailbox(srv, "", "")), clk.Now, nil)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM protocols`)
		return n == 3, fmt.Sprintf("%d of 3 protocolled", n)
	})
	clk.Set(time.Date(2027, 1, 1, 0, 0, 1, 0, clock.Rome))
	dovecot.Append(t, c, "INBOX", testenv.Messages("new-year", 2)...)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM protocols`)
		return n == 5, fmt.Sprintf("%d of 5 protocolled", n)
	})
	testenv.CheckProtocols(t, db, 2026, 3)
	testenv.CheckProtocols(t, db, 2027, 2)
	var label string
	db.QueryRow(`SELECT label FROM protocols WHERE year = 2027 AND number = 1`).Scan(&label)
	if label != "INPS.FE.2027.0000001" {
		t.Errorf("first label of 2027 = %q, want INPS.FE.2027.0000001", label)
	}
}

// TestDovecot_failingMailboxBlocksNoOther: one mailbox with a wrong
// password and one on a closed port fail and retry with backoff, while the
// healthy one ingests.
func TestDovecot_failingMailboxBlocksNoOther(t *testing.T) {
	srv := startDovecot(t)
	c := srv.Client(testUser, testPass)
	dovecot.Append(t, c, "INBOX", testenv.Messages("iso", 30)...)
	state := t.TempDir()
	good := mailbox(srv, "", "")
	badPass := mailbox(srv, "", "")
	badPass.Name, badPass.Password = "wrong-password", "not-the-password"
	closed := mailbox(srv, "", "")
	closed.Name, closed.Addr = "closed-port", "127.0.0.1:1"
	gateway.Start(t, testenv.Config(t, state, badPass, closed, good), nil, nil)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE mailbox = 'gestione-credito' AND moved_at IS NOT NULL`)
		return n == 30, fmt.Sprintf("%d of 30 moved", n)
	})
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM mailbox_state WHERE attempts > 0 AND last_error != '' AND next_attempt != ''`)
		return n == 2, fmt.Sprintf("%d failing mailboxes with a stored failure and next attempt, want 2", n)
	})
	var lastErr string
	db.QueryRow(`SELECT last_error FROM mailbox_state WHERE mailbox = 'wrong-password'`).Scan(&lastErr)
	if !strings.Contains(lastErr, "login") {
		t.Errorf("wrong-password's last error = %q, want a login failure", lastErr)
	}
}

// TestDovecot_TLS: implicit TLS and STARTTLS, trusting the server's
// certificate through ca_file; without it the certificate is refused.
func TestDovecot_TLS(t *testing.T) {
	srv := dovecot.StartTLS(t, map[string]string{testUser: testPass})
	c := srv.Client(testUser, testPass)
	for _, tc := range []struct {
		mode, addr, ca string
		want           int
	}{
		{"implicit", fmt.Sprintf("127.0.0.1:%d", srv.TLSPort), srv.CAFile, 3},
		{"starttls", srv.Addr(), srv.CAFile, 3},
		{"implicit", fmt.Sprintf("127.0.0.1:%d", srv.TLSPort), "", 0},
	} {
		t.Run(fmt.Sprintf("%s/ca=%v", tc.mode, tc.ca != ""), func(t *testing.T) {
			folder := fmt.Sprintf("In-%s-%v", tc.mode, tc.ca != "")
			dovecot.Append(t, c, folder, testenv.Messages(folder, 3)...)
			m := mailbox(srv, folder, "")
			m.Addr, m.TLS, m.CAFile = tc.addr, tc.mode, tc.ca
			state := t.TempDir()
			gateway.Start(t, testenv.Config(t, state, m), nil, nil)
			db := testenv.OpenDB(t, state)
			if tc.want == 0 {
				testenv.Eventually(t, 10*time.Second, func() (bool, string) {
					var e string
					db.QueryRow(`SELECT last_error FROM mailbox_state`).Scan(&e)
					return strings.Contains(e, "certificate"), "no certificate error recorded: " + e
				})
				return
			}
			testenv.Eventually(t, 20*time.Second, func() (bool, string) {
				n := testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`)
				return n == tc.want, fmt.Sprintf("%d of %d moved", n, tc.want)
			})
		})
	}
}
