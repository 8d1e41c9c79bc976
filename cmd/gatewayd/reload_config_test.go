package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// TestBinary_SIGHUPConfig: SIGHUP reads the configuration again. A mailbox
// added gets its mail processed; a setting only a restart can change is
// logged and kept; a broken configuration is logged, every error with its
// line, and the one in force kept while the daemon runs on; a changed
// mailbox's loops start again and a removed one's stop. The watchdog is
// fed all along.
func TestBinary_SIGHUPConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := dovecot.Start(t, map[string]string{"gc": "pw", "af": "pw"})
	gc := testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr(), User: "gc", Password: "pw"}
	af := testenv.Mailbox{Name: "af", Address: "AnagraficaFlussi.Ferrara@inps.it", Addr: srv.Addr(), User: "af", Password: "pw"}
	state := t.TempDir()
	cfg := testenv.Config(t, state, gc)
	d := startRecorded(t, buildBinary(t), cfg.File, state, "WATCHDOG_USEC=200000")
	db := testenv.OpenDB(t, state)
	deliver := func(user, id string, want int) {
		t.Helper()
		dovecot.Append(t, srv.Client(user, "pw"), "INBOX", testenv.Message(id, 800))
		testenv.Eventually(t, 20*time.Second, func() (bool, string) {
			n := testenv.Int(t, db, `SELECT count(*) FROM messages WHERE mailbox = ?`, user)
			return n == want, fmt.Sprintf("%d messages of %s recorded, want %d; log:\n%s", n, user, want, d.log())
		})
	}
	deliver("gc", "one", 1)

	// Add af; ask for another state directory, which needs a restart.
	conf, _ := os.ReadFile(cfg.File)
	gcPassword := regexp.MustCompile(`password_file: "[^"]*"`).Find(conf)
	rewrite(t, cfg.File, testenv.Config(t, t.TempDir(), gc, af).File, func(s string) string {
		return strings.Replace(s, regexp.MustCompile(`password_file: "[^"]*"`).FindString(s), string(gcPassword), 1) // gc unchanged
	})
	d.reload(t)
	if !d.logHas(`msg="mailbox added: starting its loops" mailbox=af`, `msg="a restart is needed to change this setting: the value in force is kept" setting=state_dir`) {
		t.Errorf("the reload's log lacks the added mailbox or the kept state_dir:\n%s", d.log())
	}
	if strings.Contains(d.log(), `msg="mailbox changed: its loops start again after the batch in hand" mailbox=gc`) {
		t.Errorf("gc's loops were restarted though its settings did not change:\n%s", d.log())
	}
	deliver("af", "two", 1) // into the state directory in force

	// A broken configuration: every error logged, the one in force kept.
	good, _ := os.ReadFile(cfg.File)
	pollLine := 0
	rewrite(t, cfg.File, cfg.File, func(s string) string {
		s = "no_such_key: 1\n" + strings.Replace(s, "poll_interval: 1s", "poll_interval: 1ms", 1)
		pollLine = strings.Count(s[:strings.Index(s, "poll_interval: 1ms")], "\n") + 1
		return s
	})
	d.reload(t)
	if !d.logHas(`configuration reload failed: keeping the configuration and rules in force" err="`+cfg.File+`:1: unknown key \"no_such_key\"`,
		fmt.Sprintf("%s:%d: poll_interval 1ms is under 1s", cfg.File, pollLine)) {
		t.Errorf("the broken configuration's errors are not logged with their lines:\n%s", d.log())
	}
	deliver("gc", "three", 2)
	deliver("af", "four", 2)

	// af removed, gc changed.
	os.WriteFile(cfg.File, good, 0o600)
	rewrite(t, cfg.File, testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: gc.Address, Addr: gc.Addr, User: "gc", Password: "pw",
		PollInterval: "2s"}).File, nil)
	d.reload(t)
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return d.logHas(`msg="mailbox removed: its loops stop after the batch in hand" mailbox=af`, `msg="mailbox stopped" mailbox=af`,
			`msg="mailbox changed: its loops start again after the batch in hand" mailbox=gc`), "af not stopped or gc not restarted:\n" + d.log()
	})
	deliver("gc", "five", 3)
	if n := d.Count("WATCHDOG=1"); n < 2 {
		t.Errorf("%d WATCHDOG=1 sent, want a steady feed (WatchdogSec 200ms)", n)
	}
	if strings.Contains(d.log(), "level=ERROR msg=\"loops have not beaten") {
		t.Errorf("a loop was reported stale:\n%s", d.log())
	}
}

// rewrite writes the content of from (changed by edit, if any) to file.
func rewrite(t *testing.T, file, from string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if edit != nil {
		s = edit(s)
	}
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBinary_exitCodes: the built binary exits 78 (EX_CONFIG) on a bad
// configuration, for run and check alike.
func TestBinary_exitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, args := range [][]string{{"run", "--config", "/nonexistent.yaml"}, {"check", "--config", "/nonexistent.yaml"}, {"run", "--bogus"}} {
		err := exec.Command(bin, args...).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 78 {
			t.Errorf("gatewayd %v: %v, want exit status 78", args, err)
		}
	}
}
