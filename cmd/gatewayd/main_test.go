package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewayd/internal/store"
)

// TestCheck_badConfig: check prints every problem as file:line and exits 78.
func TestCheck_badConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatewayd.yaml")
	os.WriteFile(path, []byte("office: {name: X, code: FE}\nmailboxes:\n  - name: A B\n    address: nope\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--config", path}, &out, &errb); code != exitBadConfig {
		t.Errorf("check exit code = %d, want %d", code, exitBadConfig)
	}
	for _, want := range []string{path + ":3: mailbox name", path + ":4: mailbox address", path + ":3: imap.host is required"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestCheck_goodConfig(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("x"), 0o600)
	path := filepath.Join(dir, "gatewayd.yaml")
	os.WriteFile(path, []byte("office: {name: X, code: FE}\nstate_dir: "+dir+"\nmailboxes:\n  - name: a\n    address: a@b.it\n"+
		"    imap: {host: imap.b.it, user: a, password_file: "+pw+"}\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--config", path}, &out, &errb); code != exitOK {
		t.Errorf("check exit code = %d, want 0; stderr:\n%s", code, errb.String())
	}
}

// TestTools_noSecretsNeeded: the operators' commands (here messages,
// cases, registro) run where the service's secrets are not there — the
// password_env variable unset, as for an operator or a backup timer
// outside the unit — while run and check still insist on them.
func TestTools_noSecretsNeeded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatewayd.yaml")
	os.WriteFile(path, []byte("office: {name: X, code: FE}\nstate_dir: "+filepath.Join(dir, "state")+"\nmailboxes:\n  - name: a\n    address: a@b.it\n"+
		"    imap: {host: imap.b.it, user: a, password_env: GATEWAYD_TEST_UNSET_PASSWORD}\n"), 0o600)
	os.Unsetenv("GATEWAYD_TEST_UNSET_PASSWORD")
	st, err := store.Open(context.Background(), store.Options{StateDir: filepath.Join(dir, "state"), Office: "FE"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, args := range [][]string{{"messages", "--config", path, "list"}, {"cases", "--config", path, "list"}, {"registro", "--config", path, "list"}} {
		if got, code := cmd(args...); code != exitOK {
			t.Errorf("gatewayd %v without the service's secret = %d: %s", args, code, got)
		}
	}
	if got, code := cmd("check", "--config", path); code != exitBadConfig || !strings.Contains(got, "GATEWAYD_TEST_UNSET_PASSWORD is not set") {
		t.Errorf("check without the secret = %d: %s", code, got)
	}
}

// TestRun_badConfigExits78: a bad configuration or usage exits 78
// (EX_CONFIG), never 2 (the Go runtime's status after a panic).
func TestRun_badConfigExits78(t *testing.T) {
	for _, args := range [][]string{{"run", "--config", "/nonexistent.yaml"}, {"run", "--no-such-flag"}, {"check", "--config", "/nonexistent.yaml"},
		{"no-such-command"}, {}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 78 {
			t.Errorf("gatewayd %v: exit code = %d, want 78", args, code)
		}
	}
}

// TestDemo: the README's first command runs and shows each outcome.
func TestDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"demo"}, &out, &errb); code != exitOK {
		t.Fatalf("demo exit code = %d; stderr:\n%s", code, errb.String())
	}
	for _, want := range []string{"INPS.FE.", "seen again", "missing-message-id", "malformed-mime",
		"invalid-header-encoding", "empty-message", "over-size-cap", "not-certified", "wrong-mailbox",
		"use-cassetto", "missing-codice-fiscale", "not-from-ordine", "automatic", "The answers sent (10,", "POSTA CERTIFICATA: 01234560371", "ANOMALIA MESSAGGIO:",
		"Auto-Submitted: auto-replied", "manca il codice fiscale", "closes the case as answered", "\"SOLLECITO - Protocollo INPS.FE.2026.",
		"\"ESCALATION - Protocollo INPS.FE.2026.", "answered", "overdue   escalation", "chain intact", "compliance-report.html"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheck_rules(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--rules", "../../rules/milano"}, &out, &errb); code != exitOK {
		t.Errorf("check --rules milano = %d: %s", code, errb.String())
	}
	dir := t.TempDir()
	os.CopyFS(dir, os.DirFS("../../rules/ferrara"))
	os.WriteFile(filepath.Join(dir, "caselle.yaml"), []byte("caselle:\n  - indirizzo: x\n    tipo: pec\n    giorni_lavorativi: 10\n"), 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"check", "--rules", dir}, &out, &errb); code != exitBadConfig {
		t.Errorf("check --rules (broken) = %d, want %d", code, exitBadConfig)
	}
	if !strings.Contains(errb.String(), filepath.Join(dir, "caselle.yaml")+":2: indirizzo \"x\"") {
		t.Errorf("check --rules output:\n%s", errb.String())
	}
	// Without scadenze.yaml (optional) the rules are right, but said to
	// give no solleciti; --config beside --rules is refused, not ignored.
	noLadders := t.TempDir()
	os.CopyFS(noLadders, os.DirFS("../../rules/ferrara"))
	os.Remove(filepath.Join(noLadders, "scadenze.yaml"))
	if got, code := cmd("check", "--rules", noLadders); code != exitOK || !strings.Contains(got, "no scadenze.yaml: cases get no solleciti") {
		t.Errorf("check --rules without scadenze.yaml = %d: %s", code, got)
	}
	if got, code := cmd("check", "--config", "/nonexistent.yaml", "--rules", "../../rules/milano"); code != exitBadConfig || !strings.Contains(got, "give one") {
		t.Errorf("check --config --rules = %d: %s", code, got)
	}
}

// TestOutboxCommand: list, show and retry on a state directory.
func TestOutboxCommand(t *testing.T) {
	state := t.TempDir()
	pw := filepath.Join(state, "pw")
	os.WriteFile(pw, []byte("x"), 0o600)
	conf := filepath.Join(state, "gatewayd.yaml")
	os.WriteFile(conf, []byte("office: {name: X, code: FE}\nstate_dir: "+state+"\nmailboxes:\n  - name: a\n    address: a@b.it\n"+
		"    imap: {host: imap.b.it, user: a, password_file: "+pw+"}\n"), 0o600)
	st, err := store.Open(context.Background(), store.Options{StateDir: state, Office: "FE"})
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	db.Exec(`INSERT INTO spool_segments VALUES ('s', 0, '')`)
	db.Exec(`INSERT INTO messages (id, sha256, spool_segment, spool_offset, size, stored_size, mailbox, received_at, recorded_at, outcome)
		VALUES (1, 'x', 's', 0, 1, 1, 'a', '', '', 'refused')`)
	db.Exec(`INSERT INTO outbox (id, message, mailbox, kind, message_id, mail_from, rcpt, body, state, last_error, attempts, created_at)
		VALUES (7, 1, 'a', 'rifiuto', 'm@b.it', 'a@b.it', 'c@d.it', 'Subject: prova', 'failed', '550 no such user', 1, '2026-11-16T10:00:00Z')`)
	st.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"outbox", "--config", conf, "list"}, &out, &errb); code != exitOK ||
		!strings.Contains(out.String(), "failed") || !strings.Contains(out.String(), "550 no such user") {
		t.Errorf("outbox list = %d:\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"outbox", "--config", conf, "show", "7"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "Subject: prova") {
		t.Errorf("outbox show = %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"outbox", "--config", conf, "retry", "7"}, &out, &errb); code != exitOK {
		t.Errorf("outbox retry = %d: %s", code, errb.String())
	}
	out.Reset()
	run([]string{"outbox", "--config", conf, "list", "queued"}, &out, &errb)
	if !strings.Contains(out.String(), "c@d.it") {
		t.Errorf("after retry the answer is not queued:\n%s", out.String())
	}
	if code := run([]string{"outbox", "--config", conf, "retry", "7"}, &out, &errb); code == exitOK {
		t.Errorf("retrying a queued answer succeeded")
	}
}

// TestCheck_oneIdentity: the configuration's office code and the rules'
// office must be the same office.
func TestCheck_oneIdentity(t *testing.T) {
	state := t.TempDir()
	pw := filepath.Join(state, "pw")
	os.WriteFile(pw, []byte("x"), 0o600)
	conf := filepath.Join(state, "gatewayd.yaml")
	rulesDir, _ := filepath.Abs("../../rules/milano")
	os.WriteFile(conf, []byte("office:\n  name: X\n  code: FE\nstate_dir: "+state+"\nrules_dir: "+rulesDir+"\nshadow: true\nmailboxes:\n"+
		"  - name: a\n    address: Direzione.milano@inps.it\n    imap: {host: imap.b.it, user: a, password_file: "+pw+"}\n"), 0o600)
	var out, errb bytes.Buffer
	code := run([]string{"check", "--config", conf}, &out, &errb)
	if code == exitOK || !strings.Contains(errb.String(), "gatewayd.yaml:3: office.code FE differs from the code of the rules' office, MI") {
		t.Errorf("check with FE against Milan's rules = %d:\n%s%s", code, out.String(), errb.String())
	}
}
