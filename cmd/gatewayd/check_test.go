package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// TestCheck_everythingAtOnce: one run of check names every problem — the
// configuration's, the rules', the templates', the state directory's —
// each at its file:line, and warns of a password file others can read.
func TestCheck_everythingAtOnce(t *testing.T) {
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	os.CopyFS(rulesDir, os.DirFS("../../rules/ferrara"))
	os.WriteFile(filepath.Join(rulesDir, "caselle.yaml"), []byte("caselle:\n  - indirizzo: x\n    tipo: pec\n    giorni_lavorativi: 10\n"), 0o644)
	os.WriteFile(filepath.Join(rulesDir, "templates", "rifiuto.txt"), []byte("Oggetto: {{.Nope\n"), 0o644)
	notDir := filepath.Join(dir, "a-file")
	os.WriteFile(notDir, nil, 0o600)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("x"), 0o644)
	os.Chmod(pw, 0o644)
	conf := filepath.Join(dir, "gatewayd.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf("office: {name: X, code: FE}\nstate_dir: %q\nrules_dir: %q\nshadow: true\nmailboxes:\n"+
		"  - name: gc\n    address: GestioneCredito.Ferrara@inps.it\n    poll_interval: 1ms\n"+
		"    imap: {host: imap.b.it, user: a, password_file: %q}\n", filepath.Join(notDir, "state"), rulesDir, pw)), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--config", conf}, &out, &errb); code != exitBadConfig {
		t.Errorf("check = %d, want %d", code, exitBadConfig)
	}
	for _, want := range []string{
		conf + ":8: poll_interval 1ms is under 1s",
		filepath.Join(rulesDir, "caselle.yaml") + ":2: indirizzo \"x\"",
		filepath.Join(rulesDir, "templates", "rifiuto.txt") + ":2: unclosed action",
		conf + ":2: state_dir " + filepath.Join(notDir, "state") + ": does not exist, and " + notDir + " is not a directory",
		"warning: " + conf + ":9: password_file " + pw + " can be read by others (mode 0644)",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check's output lacks %q:\n%s", want, errb.String())
		}
	}
}

// TestCheck_connect: check --connect logs in to every IMAP account (the
// test Dovecot) and SMTP account (the go-smtp sink, STARTTLS and AUTH),
// lists the folders each mailbox uses and whether they exist, and fails
// on a missing watched folder and a wrong SMTP password.
func TestCheck_connect(t *testing.T) {
	srv := dovecot.StartTLS(t, map[string]string{"gc": "pw", "af": "pw"})
	dovecot.Append(t, srv.Client("gc", "pw"), "gatewayd/accepted", testenv.Message("x", 100)) // one outcome folder exists
	cert, err := tls.LoadX509KeyPair(srv.CAFile, filepath.Join(srv.Root, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := smtpsink.StartWith(smtpsink.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, User: "gc", Password: "segreta"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	secrets := t.TempDir()
	good, bad := filepath.Join(secrets, "good"), filepath.Join(secrets, "bad")
	os.WriteFile(good, []byte("segreta"), 0o600)
	os.WriteFile(bad, []byte("sbagliata"), 0o600)
	host, port, _ := strings.Cut(sink.Addr, ":")
	smtp := func(pwFile string) string {
		return fmt.Sprintf("    smtp: {host: %s, port: %s, tls: starttls, user: gc, password_file: %q, ca_file: %q}\n", host, port, pwFile, srv.CAFile)
	}
	rulesDir, _ := filepath.Abs("../../rules/ferrara")
	state := t.TempDir()
	gc := testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr(), User: "gc", Password: "pw", Extra: smtp(good)}
	af := testenv.Mailbox{Name: "af", Address: "AnagraficaFlussi.Ferrara@inps.it", Addr: srv.Addr(), User: "af", Password: "pw",
		Folder: "Nowhere", Extra: smtp(bad)}
	cfg := testenv.Config(t, state, gc, af)
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q", rulesDir))
	var out, errb bytes.Buffer
	code := run([]string{"check", "--connect", "--config", cfg.File}, &out, &errb)
	if code != exitFailure {
		t.Errorf("check --connect with a missing folder and a wrong password = %d, want %d", code, exitFailure)
	}
	for _, want := range []string{
		"mailbox gc: IMAP gc at " + srv.Addr() + " (plain): logged in",
		"  watched      INBOX                            exists",
		"  accepted     gatewayd/accepted                exists",
		"  refused      gatewayd/refused                 missing: created at start",
		"  sent         Sent                             exists (marked \\Sent)",
		"mailbox gc: SMTP gc at " + sink.Addr + " (starttls), from GestioneCredito.Ferrara@inps.it: logged in",
		"mailbox af: IMAP af at " + srv.Addr() + " (plain): logged in",
		"  watched      Nowhere                          MISSING: the mailbox cannot be read",
		"mailbox af: SMTP gc at " + sink.Addr + " (starttls), from AnagraficaFlussi.Ferrara@inps.it: FAILED: auth as gc: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check --connect's output lacks %q:\n%s", want, out.String())
		}
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("check --connect sent %d messages, want none", n)
	}

	cfg = testenv.Config(t, state, gc)
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q", rulesDir))
	out.Reset()
	errb.Reset()
	if code := run([]string{"check", "--connect", "--config", cfg.File}, &out, &errb); code != exitOK || !strings.Contains(out.String(), cfg.File+": ok (1 mailboxes, rules ") {
		t.Errorf("check --connect on a good configuration = %d:\n%s%s", code, out.String(), errb.String())
	}
}
