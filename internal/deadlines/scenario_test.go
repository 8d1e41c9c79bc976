package deadlines_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/mail"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, clock.Rome)
}

// office is a daemon on a simulated clock with one Dovecot mailbox and an
// SMTP sink, for the ladders' scenarios.
type office struct {
	t     *testing.T
	clk   *clock.Settable
	srv   *dovecot.Server
	sink  *smtpsink.Sink
	gw    *gateway.Running
	cfg   *config.Config
	state string
	user  string
}

func startOffice(t *testing.T, rulesDir, address string, now time.Time) *office {
	t.Helper()
	o := &office{t: t, clk: clock.NewSettable(now), sink: gateway.StartSink(t), user: "box"}
	o.srv = dovecot.Start(t, map[string]string{o.user: "pw"})
	o.state = t.TempDir()
	cfg := testenv.Config(t, o.state, testenv.Mailbox{Name: "box", Address: address, Addr: o.srv.Addr(), User: o.user,
		Password: "pw", SMTPAddr: o.sink.Addr})
	cfg.RulesDir = rulesDir
	if strings.Contains(address, "milano") {
		cfg.Office.Code = "MI" // the rules' office
	}
	o.cfg = cfg
	o.gw = gateway.Start(t, cfg, o.clk.Now, nil)
	return o
}

// ferraraCase starts Ferrara's office with one accepted request (case
// INPS.FE.2026.0000001, received 2026-11-23 10:00) and opens its store.
func ferraraCase(t *testing.T) (*office, *sql.DB) {
	t.Helper()
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	return o, testenv.OpenDB(t, o.state)
}

// receive delivers a mail that reached the mailbox at `at` and waits for
// its decision.
func (o *office) receive(at time.Time, from, to, subject string) {
	o.t.Helper()
	id := fmt.Sprintf("m%d@studio.example.it", at.UnixNano())
	raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n\r\nTesto.\r\n", from, to, subject,
		at.Format(time.RFC1123Z), id)
	c := o.srv.Client(o.user, "pw")
	n := dovecot.Count(o.t, c, "gatewayd/accepted")
	dovecot.AppendAt(o.t, c, "INBOX", at, []byte(raw))
	testenv.Eventually(o.t, 20*time.Second, func() (bool, string) {
		return dovecot.Count(o.t, c, "gatewayd/accepted") == n+1, "the mail was not accepted"
	})
}

// passAt runs the scheduler's pass at a simulated time.
func (o *office) passAt(at time.Time) {
	o.t.Helper()
	o.clk.Set(at)
	if _, err := o.gw.D.Deadlines().Pass(context.Background()); err != nil {
		o.t.Fatal(err)
	}
}

// notices waits for n deadline mails (subjects not "Protocollo …") in the
// sink and returns them: subject → envelope recipients.
func (o *office) notices(n int) map[string][]string {
	o.t.Helper()
	if n == 0 {
		time.Sleep(500 * time.Millisecond) // time for a mail wrongly enqueued to reach the sink
	}
	var out map[string][]string
	testenv.Eventually(o.t, 20*time.Second, func() (bool, string) {
		out = map[string][]string{}
		for _, m := range o.sink.Messages() {
			r, err := mail.CreateReader(bytes.NewReader(m.Raw))
			if err != nil {
				continue
			}
			subj, _ := r.Header.Subject()
			if !strings.HasPrefix(subj, "Protocollo ") && !strings.HasPrefix(subj, "Non presa in carico") &&
				!strings.HasPrefix(subj, "Seguito alla pratica") {
				out[subj] = m.To
			}
		}
		return len(out) == n, fmt.Sprintf("%d deadline mails received, want %d: %v", len(out), n, out)
	})
	return out
}

// body returns the decoded text of the first mail whose subject starts so.
func (o *office) body(prefix string) string {
	for _, m := range o.sink.Messages() {
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			continue
		}
		if subj, _ := r.Header.Subject(); strings.HasPrefix(subj, prefix) {
			p, err := r.NextPart()
			if err != nil {
				return ""
			}
			var b bytes.Buffer
			b.ReadFrom(p.Body)
			return b.String()
		}
	}
	return ""
}

func (o *office) caseState(protocol string) (state, level string, steps int) {
	db := testenv.OpenDB(o.t, o.state)
	db.QueryRow(`SELECT state, level FROM cases WHERE protocol = ?`, protocol).Scan(&state, &level)
	steps = testenv.Int(o.t, db, `SELECT count(*) FROM case_steps s JOIN cases c ON c.id = s.case_id WHERE c.protocol = ?`, protocol)
	return
}

// TestScenario_ferrara: the README's example through Dovecot and the SMTP
// sink: received Monday 23 Nov 2026 10:00, due Monday 7 Dec; the
// sollecito on Wednesday 9 Dec at 08:30 (8 Dec is a holiday) to the
// responsabile Agenzia Flussi, Cc the Direttore; the escalation on Monday
// 21 Dec to the Direzione regionale, Cc the Ordine; each once.
func TestScenario_ferrara(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	const p = "INPS.FE.2026.0000001"
	o.passAt(rome(2026, 12, 7, 17, 0)) // the due date itself: nothing yet
	o.passAt(rome(2026, 12, 8, 8, 30)) // a holiday: nothing
	if state, _, steps := o.caseState(p); state != "open" || steps != 0 {
		t.Fatalf("before the sollecito: %s with %d steps", state, steps)
	}
	o.passAt(rome(2026, 12, 9, 8, 30))
	got := o.notices(1)
	want := "SOLLECITO - Protocollo " + p + " - RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"
	if rc := got[want]; strings.Join(rc, " ") != "responsabile.agenziaflussi.ferrara@inps.it direttore.provinciale.ferrara@inps.it" {
		t.Errorf("sollecito %q to %v", want, got)
	}
	body := o.body("SOLLECITO")
	for _, want := range []string{p, "23/11/2026 alle 10:00", "GestioneCredito.Ferrara@inps.it", "studio@bianchi.it",
		"RSSMRA85T10A562S", "richiesta sgravio avviso 2025", "Message-ID:", "@studio.example.it>", "07/12/2026", "1 giorno lavorativo di ritardo"} {
		if !strings.Contains(body, want) {
			t.Errorf("the sollecito lacks %q:\n%s", want, body)
		}
	}
	o.passAt(rome(2026, 12, 9, 9, 30)) // again the same day: nothing more
	o.passAt(rome(2026, 12, 18, 8, 30))
	if state, level, _ := o.caseState(p); state != "overdue" || level != "sollecito" {
		t.Errorf("after the sollecito: %s at %s", state, level)
	}
	o.passAt(rome(2026, 12, 21, 8, 30))
	got = o.notices(2)
	if rc := got["ESCALATION - Protocollo "+p+" - RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"]; strings.Join(rc, " ") !=
		"direzione.emiliaromagna@inps.it info@odcec.fe.it" {
		t.Errorf("escalation: %v", got)
	}
	o.passAt(rome(2026, 12, 22, 8, 30))
	o.notices(2)
	if _, level, steps := o.caseState(p); level != "escalation" || steps != 2 {
		t.Errorf("after the escalation: level %s, %d steps", level, steps)
	}
}

// TestScenario_catchUpOnce: a daemon stopped across both dates takes only
// the level the case is at now; the one crossed is recorded as skipped.
func TestScenario_catchUpOnce(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	o.passAt(rome(2027, 1, 4, 9, 0))
	o.passAt(rome(2027, 1, 5, 9, 0))
	got := o.notices(1)
	for subj := range got {
		if !strings.HasPrefix(subj, "ESCALATION") {
			t.Errorf("after the downtime: %q, want only the escalation", subj)
		}
	}
	db := testenv.OpenDB(t, o.state)
	if n := testenv.Int(t, db, `SELECT count(*) FROM case_steps WHERE level = 'sollecito' AND skipped = 1`); n != 1 {
		t.Errorf("%d skipped sollecito steps, want 1", n)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'step-skipped'`); n != 1 {
		t.Errorf("%d step-skipped events, want 1", n)
	}
}

// TestScenario_milan: from Friday 4 Dec 2026 (7 Dec Sant'Ambrogio and 8
// Dec inside): due Thursday 17, the agency's responsible on Friday 18,
// URP and Customer Care on Thursday 31, the final notice on 11 Jan 2027.
func TestScenario_milan(t *testing.T) {
	dir := t.TempDir()
	if err := copyRules(dir, "milano"); err != nil {
		t.Fatal(err)
	}
	o := startOffice(t, dir, "Direzione.milanonord@inps.it", rome(2026, 12, 4, 10, 5))
	o.receive(rome(2026, 12, 4, 10, 0), "impresa@edilrossi.it", "Direzione.milanonord@inps.it",
		"RSSMRA85T10A562S - commercianti - variazione sede")
	for _, at := range []time.Time{rome(2026, 12, 17, 16, 0), rome(2026, 12, 18, 8, 30), rome(2026, 12, 30, 8, 30),
		rome(2026, 12, 31, 8, 30), rome(2027, 1, 8, 8, 30), rome(2027, 1, 11, 8, 30)} {
		o.passAt(at)
	}
	got := o.notices(3)
	const p = "INPS.MI.2026.0000001"
	for prefix, rcpts := range map[string]string{
		"SOLLECITO":     "giusep.carbone@inps.it",
		"ESCALATION":    "urp.milano@inps.it camilla.cosi@inps.it giusep.carbone@inps.it",
		"AVVISO FINALE": "urp.milano@inps.it giusep.carbone@inps.it camilla.cosi@inps.it",
	} {
		subj := prefix + " - Protocollo " + p + " - RSSMRA85T10A562S - commercianti - variazione sede"
		if strings.Join(got[subj], " ") != rcpts {
			t.Errorf("%s to %v, want %s (all: %v)", prefix, got[subj], rcpts, got)
		}
	}
	db := testenv.OpenDB(t, o.state)
	rows, _ := db.Query(`SELECT level, due_day FROM case_steps ORDER BY rowid`)
	defer rows.Close()
	var days []string
	for rows.Next() {
		var l, d string
		rows.Scan(&l, &d)
		days = append(days, l+" "+d)
	}
	if strings.Join(days, ", ") != "sollecito 2026-12-18, escalation 2026-12-31, avviso-finale 2027-01-11" {
		t.Errorf("steps %v", days)
	}
}

// sendFromOffice puts a message the staff sent to studio@bianchi.it into
// the Sent folder, once the watcher has started reading it.
func (o *office) sendFromOffice(at time.Time, subject, inReplyTo string) {
	o.t.Helper()
	o.sendFromOfficeTo(at, "studio@bianchi.it", subject, inReplyTo)
}

// sendFromOfficeTo puts a message the staff sent to `to` into the Sent
// folder.
func (o *office) sendFromOfficeTo(at time.Time, to, subject, inReplyTo string) {
	o.t.Helper()
	db := testenv.OpenDB(o.t, o.state)
	testenv.Eventually(o.t, 20*time.Second, func() (bool, string) {
		return testenv.Int(o.t, db, `SELECT count(*) FROM sent_state`) == 1, "the Sent watcher did not start"
	})
	raw := fmt.Sprintf("From: GestioneCredito.Ferrara@inps.it\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"+
		"Message-ID: <reply%d@inps.it>\r\n", to, subject, at.Format(time.RFC1123Z), at.UnixNano())
	if inReplyTo != "" {
		raw += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	dovecot.AppendAt(o.t, o.srv.Client(o.user, "pw"), "Sent", at, []byte(raw+"\r\nRisposta dell'ufficio.\r\n"))
}

func (o *office) waitState(protocol, state string) {
	o.t.Helper()
	testenv.Eventually(o.t, 20*time.Second, func() (bool, string) {
		got, _, _ := o.caseState(protocol)
		return got == state, fmt.Sprintf("case %s is %s, want %s", protocol, got, state)
	})
}

// TestScenario_sentFolderChanged: a Sent state recorded for another
// folder under the same UIDVALIDITY (sent_folder changed, on a server that
// reuses UIDVALIDITY) is not taken for this folder's: like a first sight,
// what the folder already holds is not read (its UIDs say nothing of the
// old folder's), and what is sent from then on is.
func TestScenario_sentFolderChanged(t *testing.T) {
	o, db := ferraraCase(t)
	const p = "INPS.FE.2026.0000001"
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return testenv.Int(t, db, `SELECT count(*) FROM sent_state`) == 1, "the Sent watcher did not start"
	})
	var orig string
	db.QueryRow(`SELECT message_id FROM messages`).Scan(&orig)
	o.gw.Stop(t)
	subject := "Re: RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"
	o.sendFromOffice(rome(2026, 11, 30, 11, 0), subject, orig) // UID 1, there before the watcher comes back
	if _, err := db.Exec(`UPDATE sent_state SET folder = 'Posta inviata', last_uid = 0`); err != nil {
		t.Fatal(err)
	}
	o.gw = gateway.Start(t, o.cfg, o.clk.Now, nil)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM sent_state WHERE folder = 'Sent' AND last_uid = 1`)
		return n == 1, "the watcher did not start after the folder's messages"
	})
	if st, _, _ := o.caseState(p); st != "open" {
		t.Fatalf("case %s is %q: a message already in the new Sent folder was read under the old folder's state", p, st)
	}
	o.sendFromOffice(rome(2026, 12, 2, 11, 0), subject, orig)
	o.waitState(p, "answered")
}

// TestScenario_replyInSent: a reply the staff sent (In-Reply-To the
// original) closes the case as answered before its sollecito, which is
// then never sent; the Sent folder is only read, never changed.
func TestScenario_replyInSent(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	const p = "INPS.FE.2026.0000001"
	var orig string
	testenv.OpenDB(t, o.state).QueryRow(`SELECT message_id FROM messages`).Scan(&orig)
	o.sendFromOffice(rome(2026, 12, 2, 11, 0), "Re: RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025", orig)
	o.waitState(p, "answered")
	o.passAt(rome(2026, 12, 9, 8, 30))
	o.passAt(rome(2026, 12, 21, 8, 30))
	time.Sleep(300 * time.Millisecond)
	o.notices(0)
	var replied string
	testenv.OpenDB(t, o.state).QueryRow(`SELECT replied_at FROM cases`).Scan(&replied)
	if !strings.HasPrefix(replied, "2026-12-02T10:00:00") {
		t.Errorf("replied_at = %s, want the reply's time 2026-12-02 11:00 Rome", replied)
	}
	c := o.srv.Client(o.user, "pw")
	if _, err := c.Select("Sent", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 || slices.Contains(msgs[0].Flags, imap.FlagSeen) || dovecot.Count(t, c, "Sent") != 1 {
		t.Errorf("the staff's sent mail was changed: %v %v", msgs, err)
	}
}

// TestScenario_waitingOnProfessional: a request with the rules' marker and
// the protocol number in Sent (Wednesday 25 Nov) puts the case on the
// professional: the office's own sollecito is not sent while it waits;
// when the 10 working days end (10 Dec, 8 Dec being a holiday) a
// sollecito to the professional on Friday 11 Dec, and when 10 more end
// (28 Dec) the report to the Ordine on Tuesday 29 Dec.
func TestScenario_waitingOnProfessional(t *testing.T) {
	o := startOffice(t, gateway.FerraraRules(t), "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	const p = "INPS.FE.2026.0000001"
	o.clk.Set(rome(2026, 11, 25, 9, 0))
	o.sendFromOffice(rome(2026, 11, 25, 9, 0), "[RICHIESTA INTEGRAZIONE] Protocollo "+p+" - documenti mancanti", "")
	o.waitState(p, "waiting")
	o.passAt(rome(2026, 12, 9, 8, 30)) // the office's own sollecito date: nothing while it waits
	o.passAt(rome(2026, 12, 10, 8, 30))
	o.notices(0)
	o.passAt(rome(2026, 12, 11, 8, 30))
	got := o.notices(1)
	want := "SOLLECITO PROFESSIONISTA - Protocollo " + p + " - RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"
	if strings.Join(got[want], " ") != "studio@bianchi.it" {
		t.Errorf("sollecito to the professional: %v", got)
	}
	o.passAt(rome(2026, 12, 28, 8, 30))
	o.notices(1)
	o.passAt(rome(2026, 12, 29, 8, 30))
	got = o.notices(2)
	want = "SEGNALAZIONE ORDINE - Protocollo " + p + " - RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025"
	if strings.Join(got[want], " ") != "info@odcec.fe.it presidente.coder@odcec.emiliaromagna.it direzione.emiliaromagna@inps.it" {
		t.Errorf("report to the Ordine: %v", got)
	}
	ct, err := store.OpenCaseTool(o.state, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Close()
	if n, err := ct.SenderDelays(context.Background(), "STUDIO@bianchi.it"); n != 1 || err != nil {
		t.Errorf("the sender's late rounds = %d %v, want 1", n, err)
	}
}

// TestScenario_followup: the professional's reply on an open case (to our
// acknowledgment) is linked to it, acknowledged as a follow-up, gets no
// number and no deadline of its own, and ends the wait on the
// professional; the office's own ladder goes on.
func TestScenario_followup(t *testing.T) {
	o, db := ferraraCase(t)
	const p = "INPS.FE.2026.0000001"
	var ack string
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		db.QueryRow(`SELECT message_id FROM outbox WHERE kind = 'accettazione'`).Scan(&ack)
		return ack != "", "no acknowledgment"
	})
	o.clk.Set(rome(2026, 11, 25, 9, 0))
	o.sendFromOffice(rome(2026, 11, 25, 9, 0), "[RICHIESTA INTEGRAZIONE] Protocollo "+p+" - documenti mancanti", "")
	o.waitState(p, "waiting")
	reply := fmt.Sprintf("From: studio@bianchi.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\nSubject: Re: documenti\r\n"+
		"Date: %s\r\nMessage-ID: <followup1@bianchi.it>\r\nIn-Reply-To: <%s>\r\n\r\nIn allegato i documenti.\r\n",
		rome(2026, 11, 27, 12, 0).Format(time.RFC1123Z), ack)
	dovecot.AppendAt(t, o.srv.Client(o.user, "pw"), "INBOX", rome(2026, 11, 27, 12, 0), []byte(reply))
	o.waitState(p, "open")
	if n := testenv.Int(t, db, `SELECT count(*) FROM protocols`); n != 1 {
		t.Errorf("%d protocol numbers, want 1: a follow-up gets none", n)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases, want 1: a follow-up opens none", n)
	}
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE kind = 'seguito' AND state = 'sent'`)
		return n == 1, fmt.Sprintf("%d follow-up acknowledgments sent", n)
	})
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind IN ('follow-up', 'follow-up-received', 'case-open')`); n != 3 {
		t.Errorf("%d follow-up events, want 3 (the mail's, the case's, the wait ended)", n)
	}
	o.passAt(rome(2026, 12, 9, 8, 30))
	got := o.notices(1)
	for subj := range got {
		if !strings.HasPrefix(subj, "SOLLECITO - ") {
			t.Errorf("after the wait ended: %q, want the office's sollecito", subj)
		}
	}
}

// TestScenario_closureAdded: a closure added to the calendar and reloaded
// moves the due dates of open cases, recorded as an event, and the
// sollecito with them.
func TestScenario_closureAdded(t *testing.T) {
	rulesDir := gateway.FerraraRules(t)
	o := startOffice(t, rulesDir, "GestioneCredito.Ferrara@inps.it", rome(2026, 11, 23, 10, 5))
	o.receive(rome(2026, 11, 23, 10, 0), "studio@bianchi.it", "GestioneCredito.Ferrara@inps.it",
		"RSSMRA85T10A562S - Artigiani - richiesta sgravio avviso 2025")
	uf := filepath.Join(rulesDir, "ufficio.yaml")
	b, _ := os.ReadFile(uf)
	os.WriteFile(uf, []byte(strings.Replace(string(b), "chiusure: []", `chiusure: [{data: "2026-12-02", motivo: "chiusura straordinaria"}]`, 1)), 0o644)
	if err := o.gw.D.Reload(); err != nil {
		t.Fatal(err)
	}
	db := testenv.OpenDB(t, o.state)
	var due, next string
	db.QueryRow(`SELECT due, next_step_at FROM cases`).Scan(&due, &next)
	if due != "2026-12-09" || !strings.HasPrefix(next, "2026-12-10T07:30") {
		t.Errorf("after the closure: due %s, next step %s; want 2026-12-09 and 10 Dec 08:30", due, next)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'due-recomputed'`); n != 1 {
		t.Errorf("%d due-recomputed events, want 1", n)
	}
	o.passAt(rome(2026, 12, 9, 8, 30))
	o.notices(0)
	o.passAt(rome(2026, 12, 10, 8, 30))
	o.notices(1)
}
