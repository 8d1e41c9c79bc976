package deadlines_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/deadlines"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

const subjR = "RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"

// TestSent_forwardIsNoReply: staff forwarding the case to a colleague (not
// a reply to the professional) leaves the case open, on its timeline.
func TestSent_forwardIsNoReply(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it", subjR)
	const p = "INPS.FE.2026.0000001"
	db := testenv.OpenDB(t, o.state)
	var orig string
	db.QueryRow(`SELECT message_id FROM messages`).Scan(&orig)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return testenv.Int(t, db, `SELECT count(*) FROM sent_state`) == 1, "Sent watcher not started"
	})
	at := rome(2026, 11, 24, 9, 0)
	raw := fmt.Sprintf("From: GestioneCredito.Ferrara@inps.it\r\nTo: collega.ufficio@inps.it\r\nSubject: I: %s\r\nDate: %s\r\n"+
		"Message-ID: <fwd1@inps.it>\r\nReferences: <%s>\r\n\r\nPuoi vedere tu?\r\n", subjR, at.Format(time.RFC1123Z), orig)
	dovecot.AppendAt(t, o.srv.Client(o.user, "pw"), "Sent", at, []byte(raw))
	time.Sleep(3 * time.Second)
	st, _, _ := o.caseState(p)
	t.Logf("after an internal forward in Sent: case %s is %q", p, st)
	if st != "open" {
		t.Errorf("an internal forward (To a colleague) changed the case to %q", st)
	}
}

// TestSent_ownMailIsNoReply: a copy of the gateway's own acknowledgment in
// Sent (servers that file mail sent over SMTP there) answers nothing.
func TestSent_ownMailIsNoReply(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it", subjR)
	const p = "INPS.FE.2026.0000001"
	db := testenv.OpenDB(t, o.state)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return testenv.Int(t, db, `SELECT count(*) FROM sent_state`) == 1 && len(o.sink.Messages()) == 1, "not ready"
	})
	ack := o.sink.Messages()[0].Raw
	t.Logf("ack headers: %s", bytes.SplitN(ack, []byte("\r\n\r\n"), 2)[0])
	dovecot.AppendAt(t, o.srv.Client(o.user, "pw"), "Sent", rome(2026, 11, 23, 10, 6), ack)
	time.Sleep(3 * time.Second)
	st, _, _ := o.caseState(p)
	t.Logf("after our own acknowledgment appears in Sent: case %s is %q", p, st)
	if st != "open" {
		t.Errorf("the gateway's own acknowledgment closed the case: %q", st)
	}
}

// TestFollowup_strangerIsNot: a stranger's mail whose References name the
// original is no follow-up: it is decided as any mail, and the wait on the
// professional goes on.
func TestFollowup_strangerIsNot(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it", subjR)
	const p = "INPS.FE.2026.0000001"
	db := testenv.OpenDB(t, o.state)
	var orig string
	db.QueryRow(`SELECT message_id FROM messages`).Scan(&orig)
	o.clk.Set(rome(2026, 11, 25, 9, 0))
	o.sendFromOffice(rome(2026, 11, 25, 9, 0), "[RICHIESTA INTEGRAZIONE] Protocollo "+p+" - documenti mancanti", "")
	o.waitState(p, "waiting")
	at := rome(2026, 11, 26, 12, 0)
	raw := fmt.Sprintf("From: chiunque@altro-studio.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\nSubject: ciao\r\n"+
		"Date: %s\r\nMessage-ID: <stranger1@altro-studio.it>\r\nReferences: <%s>\r\n\r\nniente\r\n", at.Format(time.RFC1123Z), orig)
	dovecot.AppendAt(t, o.srv.Client(o.user, "pw"), "INBOX", at, []byte(raw))
	time.Sleep(4 * time.Second)
	st, _, _ := o.caseState(p)
	var dec string
	db.QueryRow(`SELECT json_extract(decision,'$.outcome') || ' ' || coalesce(json_extract(decision,'$.follows_up'),'') FROM messages WHERE message_id LIKE 'stranger1%'`).Scan(&dec)
	t.Logf("stranger's mail decided %q; case now %q", dec, st)
	if st != "waiting" {
		t.Errorf("a stranger's mail ended the wait on the professional: case %q", st)
	}
}

// TestScenario_forwardedToRegion: a normative question forwarded to the
// region on Tuesday 24 Nov: the Ordine is told the next working day;
// 7 working days later the region gets its sollecito. With both levels
// made to share a day, both are taken, neither skipped.
func TestScenario_forwardedToRegion(t *testing.T) {
	for _, sameDay := range []bool{false, true} {
		t.Run(fmt.Sprint("same day ", sameDay), func(t *testing.T) { forwardedToRegion(t, sameDay) })
	}
}

func forwardedToRegion(t *testing.T, sameDay bool) {
	dir := gateway.FerraraRules(t)
	if sameDay {
		p := dir + "/scadenze.yaml"
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), "giorni: 0\n        a: [ordine]", "giorni: 7\n        a: [ordine]", 1)), 0o644)
	}
	o := startOffice(t, dir, "direzione.ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	at := rome(2026, 11, 23, 10, 0)
	raw := fmt.Sprintf("Authentication-Results: mx.inps.it; dmarc=pass header.from=odcec.fe.it\r\nFrom: info@odcec.fe.it\r\n"+
		"To: direzione.ferrara@inps.it\r\nSubject: Quesito normativo sulla contribuzione artigiani\r\nDate: %s\r\n"+
		"Message-ID: <q1@odcec.fe.it>\r\n\r\nQuesito.\r\n", at.Format(time.RFC1123Z))
	c := o.srv.Client(o.user, "pw")
	dovecot.AppendAt(t, c, "INBOX", at, []byte(raw))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return dovecot.Count(t, c, "gatewayd/accepted") == 1, "not accepted"
	})
	db := testenv.OpenDB(t, o.state)
	var p string
	db.QueryRow(`SELECT protocol FROM cases`).Scan(&p)
	o.clk.Set(rome(2026, 11, 24, 9, 0))
	err := o.gw.D.Store().Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		cs, err := tx.CaseByProtocol(ctx, p)
		if err != nil {
			return err
		}
		return deadlines.Forward(ctx, tx, o.gw.D.Office().Rules, cs, o.clk.Now(), map[string]any{"by": "test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if sameDay { // forwarded Tue 24 Nov: 7 working days end Thu 3 Dec, both steps on Fri 4 Dec
		o.passAt(rome(2026, 12, 4, 8, 30))
		o.notices(2)
		rows, _ := db.Query(`SELECT level, skipped, coalesce(outbox,0) FROM case_steps`)
		var steps []string
		for rows.Next() {
			var l string
			var s, ob int
			rows.Scan(&l, &s, &ob)
			steps = append(steps, fmt.Sprintf("%s skipped=%d outbox=%d", l, s, ob))
		}
		rows.Close()
		if j := strings.Join(steps, ";"); !strings.Contains(j, "informa-ordine skipped=0") || !strings.Contains(j, "sollecito-regione skipped=0") {
			t.Errorf("steps: %v, want both mailed", steps)
		}
		return
	}
	o.passAt(rome(2026, 11, 25, 8, 30))
	for subj, rcpt := range o.notices(1) {
		if !strings.HasPrefix(subj, "INFORMA ORDINE - Protocollo "+p) || strings.Join(rcpt, " ") != "info@odcec.fe.it direttore.provinciale.ferrara@inps.it" {
			t.Errorf("the day after the forward: %q to %v", subj, rcpt)
		}
	}
	// The region answers on Wednesday 2 Dec (its mail names the case): the
	// relay to the Ordine is due by Thursday 3, so the Direttore's reminder
	// comes on Friday 4 instead of the region's sollecito; the office's
	// reply to the Ordine in Sent closes the case. The answer itself is not
	// acknowledged.
	answer := fmt.Sprintf("Authentication-Results: mx.inps.it; dmarc=pass header.from=inps.it\r\n"+
		"From: ConsulenzaFlussiContributivi.EmiliaRomagna@inps.it\r\nTo: direzione.ferrara@inps.it\r\n"+
		"Subject: Risposta al quesito %s\r\nDate: %s\r\nMessage-ID: <regione1@inps.it>\r\n\r\nRisposta.\r\n", p,
		rome(2026, 12, 2, 11, 0).Format(time.RFC1123Z))
	o.clk.Set(rome(2026, 12, 2, 11, 5))
	dovecot.AppendAt(t, c, "INBOX", rome(2026, 12, 2, 11, 0), []byte(answer))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		var ladder string
		db.QueryRow(`SELECT ladder FROM cases`).Scan(&ladder)
		return ladder == "riscontro@2026-12-02", "the region's answer did not start the relay: ladder " + ladder
	})
	o.passAt(rome(2026, 12, 3, 8, 30))
	o.notices(1)
	o.passAt(rome(2026, 12, 4, 8, 30))
	got := o.notices(2)
	found := false
	for subj, rcpt := range got {
		found = found || strings.HasPrefix(subj, "RIFERISCI ORDINE - Protocollo "+p) && strings.Join(rcpt, " ") == "direttore.provinciale.ferrara@inps.it"
	}
	if !found {
		t.Errorf("no relay reminder to the Direttore: %v", got)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE kind = 'seguito'`); n != 0 {
		t.Errorf("the region's answer was acknowledged (%d)", n)
	}
	o.sendFromOfficeTo(rome(2026, 12, 4, 9, 0), "info@odcec.fe.it", "Re: Quesito normativo - "+p, "")
	o.waitState(p, "answered")
}

// TestSent_impossibleWaitBlocksNothing: rules without a waiting ladder and
// the marker in Sent: the message is recorded on the case, and a later
// reply is still seen.
func TestSent_impossibleWaitBlocksNothing(t *testing.T) {
	dir := gateway.FerraraRules(t)
	p := dir + "/scadenze.yaml"
	b, _ := os.ReadFile(p)
	s := string(b)
	i, j := strings.Index(s, "  - nome: attesa-professionista"), strings.Index(s, "  # Quesito normativo")
	os.WriteFile(p, []byte(s[:i]+s[j:]), 0o644)
	o := startOffice(t, dir, "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it", subjR)
	o.receive(rome(2026, 11, 23, 10, 1), "studio@rossi.it", "GestioneCredito.Ferrara@inps.it", "RSSMRA85T10A562S - Artigiani - altra pratica")
	o.sendFromOffice(rome(2026, 11, 25, 9, 0), "[RICHIESTA INTEGRAZIONE] Protocollo INPS.FE.2026.0000001 - documenti", "")
	o.sendFromOfficeTo(rome(2026, 11, 25, 9, 5), "studio@rossi.it", "Re: Protocollo INPS.FE.2026.0000002 - risposta", "")
	o.waitState("INPS.FE.2026.0000002", "answered")
	db := testenv.OpenDB(t, o.state)
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'wait-impossible'`); n != 1 {
		t.Errorf("%d wait-impossible events, want 1", n)
	}
}

// TestScenario_pausedTermSurvivesReload: with sospende_termine the due
// date moved at the end of a wait stays after a reload.
func TestScenario_pausedTermSurvivesReload(t *testing.T) {
	dir := gateway.FerraraRules(t)
	p := dir + "/scadenze.yaml"
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), "sospende_termine: false", "sospende_termine: true", 1)), 0o644)
	o := startOffice(t, dir, "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it", subjR)
	const pr = "INPS.FE.2026.0000001"
	db := testenv.OpenDB(t, o.state)
	o.clk.Set(rome(2026, 11, 25, 9, 0))
	o.sendFromOffice(rome(2026, 11, 25, 9, 0), "[RICHIESTA INTEGRAZIONE] Protocollo "+pr+" - documenti mancanti", "")
	o.waitState(pr, "waiting")
	o.clk.Set(rome(2026, 12, 2, 12, 0))
	reply := fmt.Sprintf("From: studio@bianchi.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\nSubject: Re: Protocollo %s documenti\r\n"+
		"Date: %s\r\nMessage-ID: <fu2@bianchi.it>\r\n\r\nEcco.\r\n", pr, rome(2026, 12, 2, 12, 0).Format(time.RFC1123Z))
	dovecot.AppendAt(t, o.srv.Client(o.user, "pw"), "INBOX", rome(2026, 12, 2, 12, 0), []byte(reply))
	o.waitState(pr, "open")
	var due1, due2 string
	db.QueryRow(`SELECT due FROM cases`).Scan(&due1)
	if err := o.gw.D.Reload(); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(`SELECT due FROM cases`).Scan(&due2)
	t.Logf("due after the wait ended: %s; after a plain reload (nothing changed): %s", due1, due2)
	if due1 != due2 {
		t.Errorf("a reload with no change moved the due date %s -> %s", due1, due2)
	}
}

// TestScenario_restoreHoldsDueSteps: after a restore, a step that fell
// due by the restore day is held (it may have gone out after the backup)
// with the reason every restore hold shares, so `outbox release --held
// --reason restored` releases it.
func TestScenario_restoreHoldsDueSteps(t *testing.T) {
	o, _ := ferraraCase(t)
	o.clk.Set(rome(2026, 12, 10, 9, 0))
	if _, err := o.gw.D.Store().HoldRestored(context.Background(), rome(2026, 12, 8, 12, 0)); err != nil {
		t.Fatal(err)
	}
	o.passAt(rome(2026, 12, 10, 9, 30)) // the sollecito of 9 Dec, due before the restore
	ot, err := store.OpenOutboxTool(o.state)
	if err != nil {
		t.Fatal(err)
	}
	defer ot.Close()
	n, err := ot.ReleaseHeld(context.Background(), "restored")
	if err != nil || n != 1 {
		t.Fatalf("release --held --reason restored released %d, %v; want the held sollecito", n, err)
	}
}
