package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"

	"gatewayd/internal/config"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

// registerOffice is Ferrara's GestioneCredito on a throwaway Dovecot with
// an SMTP sink, its rules and its configuration file.
type registerOffice struct {
	srv   *dovecot.Server
	sink  *smtpsink.Sink
	state string
	conf  string
	rules string
}

func newRegisterOffice(t *testing.T, extra string, mails ...string) *registerOffice {
	t.Helper()
	o := &registerOffice{srv: dovecot.Start(t, map[string]string{"gc": "pw"}), sink: gateway.StartSink(t), state: t.TempDir(),
		rules: gateway.FerraraRules(t)}
	for _, m := range mails {
		dovecot.Append(t, o.srv.Client("gc", "pw"), "INBOX", gateway.GoldenMail(t, m))
	}
	cfg := testenv.Config(t, o.state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: o.srv.Addr(),
		User: "gc", Password: "pw", SMTPAddr: o.sink.Addr})
	o.conf = cfg.File
	addToConfig(t, o.conf, "rules_dir: "+o.rules+"\n"+extra)
	return o
}

// start runs the daemon in-process on the configuration file as it is.
func (o *registerOffice) start(t *testing.T) *gateway.Running {
	t.Helper()
	cfg, err := config.Load(o.conf)
	if err != nil {
		t.Fatal(err)
	}
	return gateway.Start(t, cfg, nil, nil)
}

// subjects are the subjects of the mails the sink received.
func (o *registerOffice) subjects() []string {
	var out []string
	for _, m := range o.sink.Messages() {
		if r, err := mail.CreateReader(bytes.NewReader(m.Raw)); err == nil {
			s, _ := r.Header.Subject()
			out = append(out, s)
		}
	}
	return out
}

func (o *registerOffice) waitMails(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		got := o.subjects()
		return len(got) == n, strings.Join(got, "\n")
	})
}

// flags returns the flags of the first two messages of a folder, EXAMINEd.
func flags(t *testing.T, c *imapclient.Client, folder string) [][]imap.Flag {
	t.Helper()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]imap.Flag
	for _, b := range bufs {
		var kept []imap.Flag
		for _, f := range b.Flags {
			if f != `\Recent` { // a session's flag, not a change
				kept = append(kept, f)
			}
		}
		out = append(out, kept)
	}
	return out
}

// TestShadowThenLive: shadow mode numbers SHADOW…, holds every answer and
// leaves the watched folder as it was (no folder created, no message
// moved or flagged); outbox release --held sends the held answers once
// the office goes live, where numbering starts at 1 and the trial's
// cases take no step.
func TestShadowThenLive(t *testing.T) {
	o := newRegisterOffice(t, "shadow: true", "fe-ok-artigiani", "fe-invalid-cf")
	run := o.start(t)
	db := testenv.OpenDB(t, o.state)
	gateway.WaitMoved(t, db, 2, 30*time.Second)
	c := o.srv.Client("gc", "pw")
	if f := flags(t, c, "INBOX"); len(f) != 2 || len(f[0]) != 0 || len(f[1]) != 0 {
		t.Errorf("INBOX after shadow mode: flags %v, want two messages unflagged", f)
	}
	if list, _ := c.List("", "gatewayd*", nil).Collect(); len(list) != 0 {
		t.Errorf("shadow mode created folders: %v", list)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM protocols WHERE label LIKE 'SHADOW.FE.%.0000001'`); n != 1 {
		t.Error("the shadow number is not SHADOW.FE.YYYY.0000001")
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM outbox WHERE state = 'held'`); n != 2 {
		t.Errorf("%d held answers, want 2", n)
	}
	run.Stop(t)
	if len(o.sink.Messages()) != 0 {
		t.Fatal("shadow mode sent mail")
	}
	if got, code := cmd("outbox", "--config", o.conf, "release", "--held", "--reason", "restored"); code != exitOK || !strings.Contains(got, "0 held mails queued") {
		t.Fatalf("outbox release --held --reason restored = %d: %s", code, got)
	}
	if got, code := cmd("outbox", "--config", o.conf, "release", "--held"); code != exitOK || !strings.Contains(got, "2 held mails queued") {
		t.Fatalf("outbox release --held = %d: %s", code, got)
	}
	b, _ := os.ReadFile(o.conf)
	os.WriteFile(o.conf, bytes.Replace(b, []byte("shadow: true"), nil, 1), 0o600)
	dovecot.Append(t, c, "INBOX", gateway.GoldenMail(t, "fe-ok-commercianti-encoded"))
	o.start(t)
	gateway.WaitMoved(t, db, 3, 30*time.Second)
	o.waitMails(t, 3) // the two released and the new one's acknowledgment
	year := time.Now().Year()
	if n := testenv.Int(t, db, `SELECT number FROM protocols WHERE register = 'protocollo'`); n != 1 {
		t.Errorf("first live number %d, want 1", n)
	}
	testenv.CheckProtocols(t, db, year, 1)
	if n := testenv.Int(t, db, `SELECT count(*) FROM cases WHERE outcome = 'shadow' AND state = 'closed'`); n != 1 {
		t.Errorf("%d shadow cases closed when going live, want 1", n)
	}
	c = o.srv.Client("gc", "pw")
	if n := dovecot.Count(t, c, "INBOX"); n != 2 {
		t.Errorf("INBOX holds %d, want the 2 the trial saw", n)
	}
	// A trial mail brought back under a new UID stays where it is: it is in
	// no register, and no folder may say it was protocolled.
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "INBOX").Wait(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		n := testenv.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'left-in-place' AND detail LIKE '%shadow trial%'`)
		return n == 1, "the trial's mail seen again is not recorded as left in place"
	})
	if n := dovecot.Count(t, c, "INBOX"); n != 3 {
		t.Errorf("INBOX holds %d, want 3 (the trial's mail copied back stays)", n)
	}
	if n := dovecot.Count(t, c, "gatewayd/accepted"); n != 1 {
		t.Errorf("gatewayd/accepted holds %d, want 1", n)
	}
}

// TestRedecideAcceptAnnul: after a rules fix, redecide registers and
// answers a mail the old rules refused (a dry run first changes nothing);
// an operator accepts another, recorded with who and why; annulling a
// number tells the sender and closes the case, amending keeps the old
// subject; and the daily register shows it all.
func TestRedecideAcceptAnnul(t *testing.T) {
	o := newRegisterOffice(t, "", "fe-use-cassetto", "fe-invalid-cf")
	o.start(t)
	db := testenv.OpenDB(t, o.state)
	gateway.WaitMoved(t, db, 2, 30*time.Second)
	o.waitMails(t, 2) // the two refusals
	cassetto := testenv.Int(t, db, `SELECT id FROM messages WHERE reasons LIKE '%use-cassetto%'`)
	invalid := testenv.Int(t, db, `SELECT id FROM messages WHERE reasons LIKE '%invalid-codice-fiscale%'`)
	id := strconv.Itoa

	// The rules fix: companies with employees are no longer sent to the Cassetto.
	uf := filepath.Join(o.rules, "ufficio.yaml")
	b, _ := os.ReadFile(uf)
	os.WriteFile(uf, bytes.Replace(b, []byte("respingi_aziende_con_dipendenti: true"), []byte("respingi_aziende_con_dipendenti: false"), 1), 0o644)
	got, code := cmd("redecide", id(cassetto), "--dry-run", "--config", o.conf)
	year := strconv.Itoa(time.Now().Year())
	if code != exitOK || !strings.Contains(got, "dry run, nothing changed") || !strings.Contains(got, "accepted, protocol INPS.FE."+year+".0000001") {
		t.Fatalf("redecide --dry-run = %d: %s", code, got)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM protocols`); n != 0 {
		t.Fatal("the dry run registered the message")
	}
	if got, code := cmd("redecide", id(cassetto), "--config", o.conf); code != exitOK || !strings.Contains(got, "accepted, protocol INPS.FE."+year+".0000001") {
		t.Fatalf("redecide = %d: %s", code, got)
	}
	if got, code := cmd("redecide", id(invalid), "--config", o.conf); code != exitOK || !strings.Contains(got, "nothing changed") {
		t.Fatalf("redecide of a still refused mail = %d: %s", code, got)
	}
	if got, code := cmd("accept", id(invalid), "--config", o.conf); code == exitOK {
		t.Fatalf("accept without --reason = %d: %s", code, got)
	}
	if got, code := cmd("accept", id(invalid), "--reason", "codice fiscale verificato con il contribuente", "--by", "mrossi", "--config", o.conf); code != exitOK ||
		!strings.Contains(got, "accepted, protocol INPS.FE."+year+".0000002") {
		t.Fatalf("accept = %d: %s", code, got)
	}
	if got, code := cmd("accept", id(invalid), "--reason", "again", "--config", o.conf); code == exitOK || !strings.Contains(got, "already registered") {
		t.Fatalf("accept twice = %d: %s", code, got)
	}
	o.waitMails(t, 4) // and the two acknowledgments, with their numbers
	acks := strings.Join(o.subjects()[2:], "\n")
	if !strings.Contains(acks, "INPS.FE."+year+".0000001") || !strings.Contains(acks, "INPS.FE."+year+".0000002") {
		t.Errorf("acknowledgments:\n%s", acks)
	}
	if show, _ := cmd("show", "--config", o.conf, id(invalid)); !strings.Contains(show, "decided-again") || !strings.Contains(show, "mrossi") ||
		!strings.Contains(show, "verificato con il contribuente") || !strings.Contains(show, "invalid-codice-fiscale") {
		t.Errorf("history after accept:\n%s", show)
	}
	first := "INPS.FE." + year + ".0000001"
	if got, code := cmd("protocol", "annul", first, "--reason", "inviata due volte", "--provvedimento", "disposizione n. 3/"+year, "--by", "lverdi", "--config", o.conf); code != exitOK {
		t.Fatalf("protocol annul = %d: %s", code, got)
	}
	o.waitMails(t, 5)
	if s := o.subjects()[4]; !strings.HasPrefix(s, "ANNULLAMENTO - Protocollo "+first) {
		t.Errorf("annulment mail subject %q", s)
	}
	if n := testenv.Int(t, db, `SELECT count(*) FROM cases WHERE protocol = ? AND state = 'closed' AND outcome = 'annulled'`, first); n != 1 {
		t.Error("the annulled number's case is not closed")
	}
	second := "INPS.FE." + year + ".0000002"
	if got, code := cmd("protocol", "amend", second, "--subject", "RSSMRA85T10A562S - Artigiani - rettifica", "--reason", "codice corretto", "--config", o.conf); code != exitOK {
		t.Fatalf("protocol amend = %d: %s", code, got)
	}
	show, _ := cmd("protocol", "--config", o.conf, "show", second)
	if !strings.Contains(show, "amended:") || !strings.Contains(show, "rettifica") {
		t.Errorf("protocol show after amend:\n%s", show)
	}
	day, _ := cmd("registro", "--config", o.conf, "show", time.Now().Format(time.DateOnly))
	for _, want := range []string{"not produced yet", "registration  " + first, "annulment     " + first, "amendment     " + second, "4 entries"} {
		if !strings.Contains(day, want) {
			t.Errorf("registro show lacks %q:\n%s", want, day)
		}
	}
}

// TestRegistroCommands: on the demo's kept state, registro verify passes
// with the files in the state directory, show and list print the days,
// and a changed byte makes verify exit 1 naming the day.
func TestRegistroCommands(t *testing.T) {
	state, conf := demoState(t)
	got, code := cmd("registro", "--config", conf, "verify")
	if code != exitOK || !strings.Contains(got, "chain intact, 4 fingerprints match") {
		t.Fatalf("registro verify = %d: %s", code, got)
	}
	days, _ := filepath.Glob(filepath.Join(state, "registro", "*", "*.csv"))
	if len(days) < 2 {
		t.Fatalf("register files in the state dir: %v", days)
	}
	first := strings.TrimSuffix(filepath.Base(days[0]), ".csv")
	if got, code := cmd("registro", "--config", conf, "show", first); code != exitOK || strings.Count(got, "registration  INPS.FE.") != 4 {
		t.Errorf("registro show %s = %d:\n%s", first, code, got)
	}
	if got, _ := cmd("registro", "list", "--config", conf); !strings.Contains(got, first+"  4") || !strings.Contains(got, "kept in state_dir") {
		t.Errorf("registro list:\n%s", got)
	}
	if got, code := cmd("registro", "-h"); code != exitOK || !strings.Contains(got, "verify") {
		t.Errorf("registro -h = %d: %s", code, got)
	}
	b, _ := os.ReadFile(days[0])
	os.WriteFile(days[0], bytes.Replace(b, []byte("INPS.FE."), []byte("INPS.FF."), 1), 0o600)
	if got, code := cmd("registro", "--config", conf, "verify"); code != exitFailure || !strings.Contains(got, "daily register "+first+" is broken") {
		t.Errorf("registro verify after a change = %d: %s", code, got)
	}
}

// TestBackupRestore: a backup taken while the daemon runs, restored into
// an empty state directory, goes on numbering where it stopped, never
// sends an answer again, and keeps the original bytes.
func TestBackupRestore(t *testing.T) {
	o := newRegisterOffice(t, "", "fe-ok-artigiani", "fe-invalid-cf")
	run := o.start(t)
	db := testenv.OpenDB(t, o.state)
	gateway.WaitMoved(t, db, 2, 30*time.Second)
	o.waitMails(t, 2)
	archive := filepath.Join(t.TempDir(), "gatewayd-backup.tar")
	if got, code := cmd("backup", "--config", o.conf, archive); code != exitOK || !strings.Contains(got, "2 messages") {
		t.Fatalf("backup = %d: %s", code, got)
	}
	if st, err := os.Stat(archive); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v %v", st, err)
	}
	// The daemon still running on a state directory moved away: restore
	// sees it on its /healthz address and refuses.
	run.Stop(t)
	db.Close()
	port := dovecot.FreePort(t)
	conf, _ := os.ReadFile(o.conf)
	os.WriteFile(o.conf, bytes.Replace(conf, []byte(`listen: "127.0.0.1:0"`), []byte(fmt.Sprintf(`listen: "127.0.0.1:%d"`, port)), 1), 0o600)
	run = o.start(t)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) { // its listener starts with its loops
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil, fmt.Sprintf("/healthz: %v", err)
	})
	if err := os.Rename(o.state, o.state+".moved"); err != nil {
		t.Fatal(err)
	}
	if got, code := cmd("restore", "--config", o.conf, archive); code == exitOK || !strings.Contains(got, "answers /healthz") {
		t.Fatalf("restore beside a running daemon = %d: %s", code, got)
	}
	if _, err := os.Stat(o.state); err == nil {
		t.Fatal("a refused restore wrote the state directory")
	}
	run.Stop(t)
	os.Rename(o.state+".moved", o.state)
	if got, code := cmd("restore", "--config", o.conf, archive); code == exitOK || !strings.Contains(got, "already holds a store") {
		t.Fatalf("restore over a store = %d: %s", code, got)
	}
	os.RemoveAll(o.state)
	whole, _ := os.ReadFile(archive)
	cut := filepath.Join(t.TempDir(), "cut.tar")
	os.WriteFile(cut, whole[:len(whole)*2/3], 0o600)
	if got, code := cmd("restore", "--config", o.conf, cut); code == exitOK {
		t.Fatalf("restore of a truncated archive = %d: %s", code, got)
	}
	if _, err := os.Stat(filepath.Join(o.state, "gatewayd.db")); err == nil {
		t.Fatal("a truncated archive left a store behind")
	}
	if got, code := cmd("restore", "--config", o.conf, archive); code != exitOK || !strings.Contains(got, "restored 2 messages") {
		t.Fatalf("restore = %d: %s", code, got)
	}
	year := strconv.Itoa(time.Now().Year())
	if got, code := cmd("export", "--config", o.conf, "INPS.FE."+year+".0000001"); code != exitOK || !strings.Contains(got, "Artigiani") {
		t.Fatalf("export after restore = %d: %.200s", code, got)
	}
	dovecot.Append(t, o.srv.Client("gc", "pw"), "INBOX", gateway.GoldenMail(t, "fe-ok-commercianti-encoded"))
	o.start(t)
	db = testenv.OpenDB(t, o.state)
	gateway.WaitMoved(t, db, 3, 30*time.Second)
	o.waitMails(t, 3)
	time.Sleep(6 * time.Second) // the outbox's look at queued mail: nothing more may go
	if got := o.subjects(); len(got) != 3 || !strings.Contains(got[2], "INPS.FE."+year+".0000002") {
		t.Errorf("after restore the sink holds:\n%s", strings.Join(got, "\n"))
	}
}

// TestCommandsFollowTheDaemonsMode: when the daemon started with
// --shadow (recorded in the store, not in the file), accept numbers from
// the shadow sequence and holds its answer, as the daemon would.
func TestCommandsFollowTheDaemonsMode(t *testing.T) {
	state, conf := demoState(t)
	db := testenv.OpenDB(t, state)
	if _, err := db.Exec(`UPDATE settings SET value = 'shadow' WHERE key = 'mode'`); err != nil {
		t.Fatal(err)
	}
	id := testenv.Int(t, db, `SELECT id FROM messages WHERE reasons LIKE '%use-cassetto%'`)
	got, code := cmd("accept", strconv.Itoa(id), "--reason", "prova", "--dry-run", "--config", conf)
	if code != exitOK || !strings.Contains(got, "protocol SHADOW.FE.") || !strings.Contains(got, "held") {
		t.Fatalf("accept beside a shadow daemon = %d: %s", code, got)
	}
}
