package outbox_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/config"
	"gatewayd/internal/pec/pectest"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

// answeringGateway starts Dovecot with user gc (GestioneCredito, Ferrara)
// holding msgs, and a daemon answering through sink.
func answeringGateway(t *testing.T, sink *smtpsink.Sink, shadow bool, msgs ...[]byte) (*sql.DB, *config.Config) {
	t.Helper()
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	dovecot.Append(t, srv.Client("gc", "pw"), "INBOX", msgs...)
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr(),
		User: "gc", Password: "pw", SMTPAddr: sink.Addr})
	cfg.RulesDir, cfg.Shadow = gateway.FerraraRules(t), shadow
	gateway.Start(t, cfg, nil, nil)
	return testenv.OpenDB(t, state), cfg
}

func outboxCount(t *testing.T, db *sql.DB, where string) int {
	return testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE `+where)
}

// TestOutbox_answers: accepted and refused mails get exactly their answer,
// with the RFC 3834 headers; automatic mail and receipts get none.
func TestOutbox_answers(t *testing.T) {
	sink := gateway.StartSink(t)
	names := []string{"fe-ok-artigiani", "fe-invalid-cf", "fe-missing-everything", "fe-use-cassetto", "fe-wrong-mailbox-durc",
		"fe-automatic-auto-submitted", "fe-automatic-list", "fe-automatic-null-return-path"}
	var msgs [][]byte
	for _, n := range names {
		msgs = append(msgs, gateway.GoldenMail(t, n))
	}
	db, _ := answeringGateway(t, sink, false, msgs...)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		return len(sink.Messages()) == 5 && outboxCount(t, db, "state = 'sent'") == 5,
			fmt.Sprintf("%d answers received, want 5", len(sink.Messages()))
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(sink.Messages()); n != 5 {
		t.Fatalf("%d answers, want exactly 5", n)
	}
	seen := map[string]bool{}
	for _, m := range sink.Messages() {
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		h := r.Header
		subj, _ := h.Subject()
		id := h.Get("Message-Id")
		if seen[id] {
			t.Errorf("Message-ID %s twice", id)
		}
		seen[id] = true
		if h.Get("Auto-Submitted") != "auto-replied" || m.From != "GestioneCredito.Ferrara@inps.it" ||
			len(m.To) != 1 || m.To[0] != "studio@bianchi.it" || !strings.HasSuffix(h.Get("In-Reply-To"), "@golden.test>") {
			t.Errorf("answer %q: from %s to %v, Auto-Submitted %q, In-Reply-To %q", subj, m.From, m.To,
				h.Get("Auto-Submitted"), h.Get("In-Reply-To"))
		}
		wantAck := strings.Contains(h.Get("In-Reply-To"), "fe-ok-artigiani")
		if wantAck != strings.HasPrefix(subj, "Protocollo INPS.FE.") {
			t.Errorf("answer to %s has subject %q", h.Get("In-Reply-To"), subj)
		}
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'answer-sent'`); n != 5 {
		t.Errorf("%d answer-sent events, want 5", n)
	}
}

// TestOutbox_smtpDown: while the server answers 4xx, answers wait with
// stored backoff; when it accepts again each is delivered once.
func TestOutbox_smtpDown(t *testing.T) {
	sink := gateway.StartSink(t)
	sink.Reject(421)
	db, _ := answeringGateway(t, sink, false, gateway.GoldenMail(t, "fe-ok-artigiani"), gateway.GoldenMail(t, "fe-missing-everything"))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "state = 'queued' AND attempts >= 2") == 2, "no retried answers yet"
	})
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d answers while refused", n)
	}
	sink.Reject(0)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "state = 'sent'") == 2, "not delivered after the server came back"
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("%d answers delivered, want 2 (each once)", n)
	}
}

// TestOutbox_permanent: a 5xx ends the answer as failed, not retried.
func TestOutbox_permanent(t *testing.T) {
	sink := gateway.StartSink(t)
	sink.Reject(550)
	db, _ := answeringGateway(t, sink, false, gateway.GoldenMail(t, "fe-ok-artigiani"))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "state = 'failed'") == 1, "not failed"
	})
	time.Sleep(time.Second) // several backoff periods
	if n := outboxCount(t, db, "attempts = 1"); n != 1 {
		t.Errorf("a failed answer was retried")
	}
	var lastErr string
	db.QueryRow(`SELECT last_error FROM outbox`).Scan(&lastErr)
	if !strings.Contains(lastErr, "550") {
		t.Errorf("last_error = %q, want the 550 reply", lastErr)
	}
}

// TestOutbox_shadow: shadow mode renders and keeps the answers, sends none.
func TestOutbox_shadow(t *testing.T) {
	sink := gateway.StartSink(t)
	db, _ := answeringGateway(t, sink, true, gateway.GoldenMail(t, "fe-ok-artigiani"), gateway.GoldenMail(t, "fe-invalid-cf"))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "state = 'held' AND reason = 'shadow mode'") == 2, "answers not held"
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d answers sent in shadow mode", n)
	}
}

// TestOutbox_loop: two gateways whose answers land in each other's
// mailbox stop after one exchange: the answer is automatic mail.
func TestOutbox_loop(t *testing.T) {
	srv := dovecot.Start(t, map[string]string{"fe": "pw", "mi": "pw"})
	sinkFE, sinkMI := gateway.StartSink(t), gateway.StartSink(t)
	feClient, miClient := srv.Client("fe", "pw"), srv.Client("mi", "pw")
	sinkFE.Deliver = func(m smtpsink.Received) { dovecot.Append(t, miClient, "INBOX", m.Raw) } // Ferrara's answers reach Milan
	sinkMI.Deliver = func(m smtpsink.Received) { dovecot.Append(t, feClient, "INBOX", m.Raw) }
	stateFE, stateMI := t.TempDir(), t.TempDir()
	cfgFE := testenv.Config(t, stateFE, testenv.Mailbox{Name: "fe", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: "fe", Password: "pw", SMTPAddr: sinkFE.Addr})
	cfgFE.RulesDir = gateway.FerraraRules(t)
	cfgMI := testenv.Config(t, stateMI, testenv.Mailbox{Name: "mi", Address: "Direzione.milano@inps.it",
		Addr: srv.Addr(), User: "mi", Password: "pw", SMTPAddr: sinkMI.Addr})
	cfgMI.RulesDir, cfgMI.Office.Code = "../../rules/milano", "MI"
	gateway.Start(t, cfgFE, nil, nil)
	gateway.Start(t, cfgMI, nil, nil)
	dovecot.Append(t, feClient, "INBOX", []byte("From: Direzione.milano@inps.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
		"Subject: richiesta senza codice fiscale\r\nMessage-ID: <loop-1@milano.test>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0100\r\n\r\nciao\r\n"))
	dbMI := testenv.OpenDB(t, stateMI)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, dbMI, `SELECT count(*) FROM messages WHERE outcome = 'ignored' AND reasons = '["automatic"]'`)
		return n == 1, "Milan did not receive Ferrara's answer as automatic mail"
	})
	time.Sleep(2 * time.Second)
	if a, b := len(sinkFE.Messages()), len(sinkMI.Messages()); a != 1 || b != 0 {
		t.Errorf("Ferrara sent %d, Milan sent %d; want 1 and 0", a, b)
	}
}

// TestOutbox_pecReceipt: a signed delivery receipt of our own answer is
// linked to it and not triaged as new mail.
func TestOutbox_pecReceipt(t *testing.T) {
	sink := gateway.StartSink(t)
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	srv := dovecot.Start(t, map[string]string{"pec": "pw"})
	c := srv.Client("pec", "pw")
	dovecot.Append(t, c, "INBOX", gateway.GoldenMail(t, "fe-pec-certified"))
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "pec", Address: "direzione.provinciale.ferrara@postacert.inps.gov.it",
		Addr: srv.Addr(), User: "pec", Password: "pw", SMTPAddr: sink.Addr})
	cfg.RulesDir = gateway.FerraraRules(t, ca.RootPEM())
	gateway.Start(t, cfg, nil, nil)
	db := testenv.OpenDB(t, state)
	var answerID string
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		db.QueryRow(`SELECT message_id FROM outbox WHERE state = 'sent'`).Scan(&answerID)
		return answerID != "", "the acknowledgment was not sent"
	})
	var rcpt string
	var body []byte
	db.QueryRow(`SELECT rcpt, body FROM outbox`).Scan(&rcpt, &body)
	if rcpt != "studio.rossi@pec.commercialisti.it" {
		t.Errorf("PEC answer to %q, want daticert's mittente (never the provider's posta-certificata@)", rcpt)
	}
	if !bytes.Contains(body, []byte("In-Reply-To: <orig-opec.fe-pec-certified@pec.test.it>")) {
		t.Errorf("PEC answer does not reply to the original message inside the envelope:\n%s", body[:min(len(body), 600)])
	}
	receipt := ca.Envelope(pectest.Message{Kind: "avvenuta-consegna", Sender: "direzione.provinciale.ferrara@postacert.inps.gov.it",
		To: "studio.rossi@pec.commercialisti.it", Subject: "Protocollo", Body: "consegnata", RefID: answerID})
	dovecot.Append(t, c, "INBOX", receipt)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "delivery = 'avvenuta-consegna' AND delivery_at != ''") == 1, "receipt not linked"
	})
	// An acceptance receipt arriving late does not undo the delivery.
	late := ca.Envelope(pectest.Message{Kind: "accettazione", Sender: "direzione.provinciale.ferrara@postacert.inps.gov.it",
		To: "studio.rossi@pec.commercialisti.it", Subject: "Protocollo", Body: "accettata", RefID: answerID})
	dovecot.Append(t, c, "INBOX", late)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'answer-delivery'`)
		return n == 2, fmt.Sprintf("%d answer-delivery events, want 2", n)
	})
	if n := outboxCount(t, db, "delivery = 'avvenuta-consegna'"); n != 1 {
		t.Errorf("a late acceptance receipt downgraded the delivery state")
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE outcome = 'ignored' AND reasons = '["pec-receipt"]'`); n != 2 {
		t.Errorf("%d receipts recorded as ignored pec-receipt, want 2", n)
	}
}

// TestOutbox_loopProtection: no answer to the office's own addresses, and
// past the daily limit per sender the answers are recorded, not sent.
func TestOutbox_loopProtection(t *testing.T) {
	sink := gateway.StartSink(t)
	mailFrom := func(from, id string) []byte {
		return []byte("From: " + from + "\r\nTo: GestioneCredito.Ferrara@inps.it\r\nSubject: senza dati\r\nMessage-ID: <" + id +
			"@lp.test>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0100\r\n\r\ntesto\r\n")
	}
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	dovecot.Append(t, srv.Client("gc", "pw"), "INBOX", mailFrom("AnagraficaFlussi.Ferrara@inps.it", "own"),
		mailFrom("studio@x.it", "a1"), mailFrom("studio@x.it", "a2"), mailFrom("studio@x.it", "a3"),
		mailFrom("non è un indirizzo", "bad"), testenv.Message("after-bad", 500))
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr(),
		User: "gc", Password: "pw", SMTPAddr: sink.Addr})
	cfg.RulesDir = gateway.FerraraRules(t)
	uf := cfg.RulesDir + "/ufficio.yaml"
	b, _ := os.ReadFile(uf)
	os.WriteFile(uf, []byte(strings.Replace(string(b), "massimo_per_mittente_al_giorno: 20", "massimo_per_mittente_al_giorno: 2", 1)), 0o644)
	gateway.Start(t, cfg, nil, nil)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return outboxCount(t, db, "state = 'sent'") == 3 && outboxCount(t, db, "state = 'suppressed'") == 3, "answers not settled"
	})
	// An unanswerable sender is recorded, and the mailbox goes on.
	if n := outboxCount(t, db, "state = 'suppressed' AND reason = 'no valid sender address to answer'"); n != 1 {
		t.Errorf("%d answers suppressed for an invalid sender, want 1", n)
	}
	if n := outboxCount(t, db, "state = 'suppressed' AND reason LIKE '%own addresses%'"); n != 1 {
		t.Errorf("%d answers to our own address suppressed, want 1", n)
	}
	if n := outboxCount(t, db, "state = 'suppressed' AND reason LIKE 'rate limit%'"); n != 1 {
		t.Errorf("%d answers over the daily limit suppressed, want 1", n)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'answer-suppressed'`); n != 3 {
		t.Errorf("%d answer-suppressed events, want 3", n)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(sink.Messages()); n != 3 {
		t.Errorf("%d answers sent, want 3", n)
	}
}

// TestOutbox_pecReceiptKinds: a signed receipt of each kind about one of
// our answers; the final failures mark it undelivered, the 12-hour
// warning does not unless its errore-esteso is 5.4.1.
func TestOutbox_pecReceiptKinds(t *testing.T) {
	sink := gateway.StartSink(t)
	ca := pectest.NewCA("pec.test.it", pectest.Options{})
	srv := dovecot.Start(t, map[string]string{"pec": "pw"})
	c := srv.Client("pec", "pw")
	const box = "direzione.provinciale.ferrara@postacert.inps.gov.it"
	kinds := append(pectest.ReceiptKinds(), "preavviso-errore-consegna/5.4.1")
	for i := range kinds {
		dovecot.Append(t, c, "INBOX", ca.Envelope(pectest.Message{Kind: "posta-certificata", Sender: fmt.Sprintf("studio%d@pec.studio.it", i),
			To: box, Subject: "01234560371 aziende con dipendenti istanza numero " + fmt.Sprint(i), Body: "Istanza."}))
	}
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "pec", Address: box, Addr: srv.Addr(), User: "pec", Password: "pw", SMTPAddr: sink.Addr})
	cfg.RulesDir = gateway.FerraraRules(t, ca.RootPEM())
	gateway.Start(t, cfg, nil, nil)
	db := testenv.OpenDB(t, state)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := outboxCount(t, db, "state = 'sent'")
		return n == len(kinds), fmt.Sprintf("%d answers sent, want %d", n, len(kinds))
	})
	final := map[string]bool{}
	for i, k := range kinds {
		var answerID string
		db.QueryRow(`SELECT message_id FROM outbox WHERE rcpt = ?`, fmt.Sprintf("studio%d@pec.studio.it", i)).Scan(&answerID)
		kind, esteso, _ := strings.Cut(k, "/")
		final[answerID] = map[string]bool{"non-accettazione": true, "errore-consegna": true, "rilevazione-virus": true}[kind] || esteso != ""
		if esteso == "" && kind == "preavviso-errore-consegna" {
			esteso = "4.4.7 - tempo massimo superato"
		}
		dovecot.Append(t, c, "INBOX", ca.Envelope(pectest.Message{Kind: kind, Sender: box, To: fmt.Sprintf("studio%d@pec.studio.it", i),
			Subject: "Protocollo", Body: "ricevuta", RefID: answerID, ErroreEsteso: esteso}))
	}
	// A genuine failure receipt about someone else's message that carries
	// the Message-ID of our first answer is not linked to it.
	var firstID string
	db.QueryRow(`SELECT message_id FROM outbox WHERE rcpt = 'studio0@pec.studio.it'`).Scan(&firstID)
	dovecot.Append(t, c, "INBOX", ca.Envelope(pectest.Message{Kind: "errore-consegna", Sender: "attaccante@pec.test.it",
		To: "inesistente@pec.test.it", Subject: "x", Body: "ricevuta", RefID: firstID}))
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'answer-delivery'`)
		m := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE reasons = '["pec-receipt"]'`)
		return n == len(kinds) && m == len(kinds)+1, fmt.Sprintf("%d answer-delivery events, want %d; %d receipts, want %d", n, len(kinds), m, len(kinds)+1)
	})
	rows, err := db.Query(`SELECT message_id, delivery, undelivered FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, delivery string
		var undelivered bool
		rows.Scan(&id, &delivery, &undelivered)
		if undelivered != final[id] {
			t.Errorf("answer %s with receipt %s: undelivered %v, want %v", id, delivery, undelivered, final[id])
		}
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE outcome = 'ignored' AND reasons = '["pec-receipt"]'`); n != len(kinds)+1 {
		t.Errorf("%d receipts ignored as pec-receipt, want %d", n, len(kinds)+1)
	}
}
