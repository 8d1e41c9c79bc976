package intake_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

// TestDovecot_triage: a mix of the golden messages delivered to three
// Ferrara mailboxes through Dovecot: each ends with its decision recorded,
// a number only when accepted, and in the folder of its outcome.
func TestDovecot_triage(t *testing.T) {
	users := map[string]string{"gc": "pw", "pec": "pw", "durc": "pw"}
	srv := dovecot.Start(t, users)
	boxes := map[string]string{"gc": "GestioneCredito.Ferrara@inps.it", "pec": "direzione.provinciale.ferrara@postacert.inps.gov.it",
		"durc": "preavvisodiaccertamento.ferrara@inps.it"}
	mix := map[string][]string{
		"gc": {"fe-ok-artigiani", "fe-ok-commercianti-encoded", "fe-invalid-cf", "fe-missing-everything", "fe-use-cassetto",
			"fe-wrong-mailbox-durc", "fe-automatic-auto-submitted", "fe-automatic-dsn"},
		"pec":  {"fe-pec-certified", "fe-pec-plain-mail", "fe-pec-tampered", "fe-pec-telematic-only", "fe-pec-receipt-accettazione", "fe-pec-anomalia"},
		"durc": {"fe-durc-ok", "fe-durc-wrong-topic"},
	}
	want := map[string]string{ // Message-ID prefix → outcome
		"fe-ok-artigiani": "accepted", "fe-ok-commercianti-encoded": "accepted", "fe-invalid-cf": "refused",
		"fe-missing-everything": "refused", "fe-use-cassetto": "refused", "fe-wrong-mailbox-durc": "refused",
		"fe-automatic-auto-submitted": "ignored", "fe-automatic-dsn": "ignored",
		"fe-pec-certified": "accepted", "fe-pec-plain-mail": "refused", "fe-pec-tampered": "refused",
		"fe-pec-telematic-only": "refused", "fe-pec-receipt-accettazione": "ignored", "fe-pec-anomalia": "refused",
		"fe-durc-ok": "accepted", "fe-durc-wrong-topic": "refused",
	}
	sink := gateway.StartSink(t) // answers are the outbox tests' concern: here they only need somewhere to go
	var mboxes []testenv.Mailbox
	for user, names := range mix {
		c := srv.Client(user, "pw")
		for _, n := range names {
			raw, err := os.ReadFile("../../testdata/triage/" + n + ".eml")
			if err != nil {
				t.Fatal(err)
			}
			dovecot.Append(t, c, "INBOX", raw)
		}
		mboxes = append(mboxes, testenv.Mailbox{Name: user, Address: boxes[user], Addr: srv.Addr(), User: user, Password: "pw", SMTPAddr: sink.Addr})
	}
	state := t.TempDir()
	cfg := testenv.Config(t, state, mboxes...)
	cfg.RulesDir = gateway.FerraraRules(t)
	gateway.Start(t, cfg, nil, nil)
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, len(want), 30*time.Second)
	rows, err := db.Query(`SELECT m.message_id, m.outcome, m.reasons, coalesce(p.label, '') FROM messages m LEFT JOIN protocols p ON p.message = m.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var id, outcome, reasons, label string
		rows.Scan(&id, &outcome, &reasons, &label)
		name := strings.TrimSuffix(strings.TrimSuffix(id, "@golden.test"), "@pec.test.it")
		name = strings.TrimPrefix(name, "opec.")
		if want[name] != outcome {
			t.Errorf("%s: outcome %s %s, want %s", name, outcome, reasons, want[name])
		}
		if (outcome == "accepted") != (label != "") {
			t.Errorf("%s: outcome %s with protocol %q", name, outcome, label)
		}
		counts[outcome]++
	}
	if counts["accepted"] != 4 || counts["refused"] != 9 || counts["ignored"] != 3 {
		t.Errorf("outcomes %v, want 4 accepted, 9 refused, 3 ignored", counts)
	}
	c := srv.Client("gc", "pw")
	for folder, n := range map[string]int{"gatewayd/accepted": 2, "gatewayd/refused": 4, "gatewayd/ignored": 2, "INBOX": 0} {
		if got := dovecot.Count(t, c, folder); got != n {
			t.Errorf("gc %s holds %d, want %d", folder, got, n)
		}
	}
	var detail string
	db.QueryRow(`SELECT e.detail FROM events e JOIN messages m ON m.id = e.message
		WHERE e.kind = 'classified' AND m.message_id = 'opec.fe-pec-certified@pec.test.it'`).Scan(&detail)
	if !strings.Contains(detail, `"signature":"valid"`) || !strings.Contains(detail, `"codice_fiscale":"01234560371"`) {
		t.Errorf("classified event of the certified PEC = %s", detail)
	}
}
