package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_badConfig: check prints every problem as file:line and exits 2.
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
	os.WriteFile(path, []byte("office: {name: X, code: FE}\nmailboxes:\n  - name: a\n    address: a@b.it\n"+
		"    imap: {host: imap.b.it, user: a, password_file: "+pw+"}\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "--config", path}, &out, &errb); code != exitOK {
		t.Errorf("check exit code = %d, want 0; stderr:\n%s", code, errb.String())
	}
}

func TestRun_badConfigExits2(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"run", "--config", "/nonexistent.yaml"}, &out, &errb); code != exitBadConfig {
		t.Errorf("run exit code = %d, want %d", code, exitBadConfig)
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
		"use-cassetto", "missing-codice-fiscale", "not-from-ordine", "automatic", "The answers sent (8,",
		"Auto-Submitted: auto-replied", "manca il codice fiscale"} {
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
}
