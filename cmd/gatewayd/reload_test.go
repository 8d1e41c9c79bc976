package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// TestBinary_SIGHUPReload: SIGHUP with broken rules keeps the rules in
// force (and logs every error); with good rules, the new ones apply.
func TestBinary_SIGHUPReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	c := srv.Client("gc", "pw")
	rulesDir := t.TempDir()
	if err := os.CopyFS(rulesDir, os.DirFS("../../rules/ferrara")); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: "gc", Password: "pw"})
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q\nshadow: true", rulesDir))
	bin := buildBinary(t)
	d := startRecorded(t, bin, cfg.File, state)
	db := testenv.OpenDB(t, state)
	deliver := func(id string) string { // a cassetto mail; returns its outcome
		dovecot.Append(t, c, "INBOX", []byte("From: studio@bianchi.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
			"Subject: 01234560371 - aziende con dipendenti - chiarimenti nota di rettifica\r\n"+
			"Message-ID: <"+id+"@reload.test>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0100\r\n\r\ntesto\r\n"))
		var outcome string
		testenv.Eventually(t, 20*time.Second, func() (bool, string) {
			db.QueryRow(`SELECT outcome FROM messages WHERE message_id = ?`, id+"@reload.test").Scan(&outcome)
			return outcome != "", id + " not recorded"
		})
		return outcome
	}
	if o := deliver("first"); o != "refused" {
		t.Fatalf("before reload: %s, want refused (use-cassetto)", o)
	}
	uf := filepath.Join(rulesDir, "ufficio.yaml")
	good, _ := os.ReadFile(uf)
	os.WriteFile(uf, []byte(string(good)+"\nnon_esiste: 1\n"), 0o644) // broken
	d.reload(t)
	if o := deliver("second"); o != "refused" {
		t.Errorf("after a broken reload: %s, want refused (the old rules kept)", o)
	}
	if !d.logHas("reload failed: keeping the configuration and rules in force", "ufficio.yaml:") {
		t.Errorf("the daemon's log does not report the broken rules:\n%s", d.log())
	}
	os.WriteFile(uf, []byte(strings.Replace(string(good), "respingi_aziende_con_dipendenti: true", "respingi_aziende_con_dipendenti: false", 1)), 0o644)
	d.reload(t)
	if o := deliver("third"); o != "accepted" {
		t.Errorf("after a good reload: %s, want accepted (Cassetto no longer required)", o)
	}
	if err := d.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the daemon is gone: %v", err)
	}
}
