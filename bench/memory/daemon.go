package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/mattn/go-sqlite3"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// box is one of the daemon's four mailboxes and the message it receives.
type box struct {
	user, address, file string
}

var boxes = []box{
	{"pec", addrPEC, validFile},
	{"credito", addrCredito, lookalikeFile},
	{"anagrafica", addrAnagrafica, secondFile},
	{"durc", addrDURC, tamperedFile},
}

// daemon appends one large message to each of four mailboxes of a
// throwaway Dovecot, then runs gatewayd until all four are recorded and
// moved, and returns its peak RSS in KiB.
func daemon(h *harness.H, bin, msgs string) (int64, error) {
	const pw = "pw"
	users := map[string]string{}
	for _, b := range boxes {
		users[b.user] = pw
	}
	srv := dovecot.Start(h, users)
	// max_message_size: 120MB, or more for -mb over 119, so that no
	// message is cut to its header.
	maxSize := int64(120_000_000)
	for _, b := range boxes {
		st, err := os.Stat(filepath.Join(msgs, b.file))
		if err != nil {
			return 0, err
		}
		maxSize = max(maxSize, st.Size()+1_000_000)
	}
	var mboxes []testenv.Mailbox
	for _, b := range boxes {
		if err := appendFile(srv.Client(b.user, pw), filepath.Join(msgs, b.file)); err != nil {
			return 0, fmt.Errorf("APPEND %s to %s: %v", b.file, b.user, err)
		}
		mboxes = append(mboxes, testenv.Mailbox{Name: b.user, Address: b.address, Addr: srv.Addr(),
			User: b.user, Password: pw, PollInterval: "2s",
			Extra: fmt.Sprintf("    max_message_size: %dMB\n", (maxSize+999_999)/1_000_000)})
	}
	rulesDir, err := rulesTrusting(h, filepath.Join(msgs, rootFile))
	if err != nil {
		return 0, err
	}
	state := filepath.Join(h.Dir, "state")
	cfg := testenv.Config(h, state, mboxes...)
	// testenv.Config writes the mailboxes; rules_dir and shadow are global
	// keys (shadow: answers are rendered and held, so no SMTP is needed).
	f, err := os.OpenFile(cfg.File, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(f, "rules_dir: %q\nshadow: true\n", rulesDir)
	if err := f.Close(); err != nil {
		return 0, err
	}

	logPath := filepath.Join(h.Dir, "gatewayd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "run", "--config", cfg.File)
	cmd.Stdout, cmd.Stderr = logf, logf
	parent := selfHWMKB()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	p := startPoller(cmd.Process.Pid, 5*time.Millisecond)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}

	var db *sql.DB
	moved := 0
	for moved < len(boxes) {
		select {
		case err := <-exited:
			p.peak()
			return 0, fmt.Errorf("gatewayd exited early (%v):\n%s", err, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Minute {
			stop()
			p.peak()
			return 0, fmt.Errorf("gatewayd did not record the %d messages in 10 minutes:\n%s", len(boxes), tail(logPath))
		}
		if db == nil {
			dbPath := filepath.Join(state, "gatewayd.db")
			if _, err := os.Stat(dbPath); err != nil {
				continue
			}
			if db, err = sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=10000"); err != nil {
				stop()
				p.peak()
				return 0, err
			}
			defer db.Close()
		}
		if err := db.QueryRow(`SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`).Scan(&moved); err != nil &&
			!strings.Contains(err.Error(), "no such table") {
			stop()
			p.peak()
			return 0, fmt.Errorf("polling the store: %v", err)
		}
	}
	elapsed := time.Since(start)
	last, _ := vmHWMKB(fmt.Sprint(cmd.Process.Pid)) // alive: its peak so far, exactly
	polled, reads := p.peak()
	polled = max(polled, last)
	stop()
	kb, how := peakOf(polled, cmd.ProcessState, parent)
	fmt.Printf("daemon: %d messages recorded and moved in %.1fs from process start; %d VmHWM reads\n", moved, elapsed.Seconds(), reads)
	if err := report(db); err != nil {
		return 0, err
	}
	fmt.Printf("daemon peak RSS %s (%s)\n", mib(kb), how)
	return kb, nil
}

// report prints each message's outcome and PEC signature, and fails when
// the PEC box's valid envelope was not verified as valid (the bench would
// not be measuring the path it means to).
func report(db *sql.DB) error {
	rows, err := db.Query(`SELECT mailbox, message_id, outcome, reasons, size, decision FROM messages ORDER BY mailbox`)
	if err != nil {
		return err
	}
	defer rows.Close()
	ok := false
	for rows.Next() {
		var mailbox, id, outcome, reasons, decision string
		var size int64
		if err := rows.Scan(&mailbox, &id, &outcome, &reasons, &size, &decision); err != nil {
			return err
		}
		var d struct {
			PEC struct {
				Signature string `json:"signature"`
			} `json:"pec"`
		}
		json.Unmarshal([]byte(decision), &d)
		fmt.Printf("  %-10s %-28s %.1f MB %s %s, signature %s\n", mailbox, id, float64(size)/1e6, outcome, reasons, d.PEC.Signature)
		if mailbox == "pec" && d.PEC.Signature == "valid" {
			ok = true
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the PEC box's envelope was not verified as validly signed (is the test CA trusted?)")
	}
	return nil
}

// appendFile APPENDs a message file to INBOX, streaming it.
func appendFile(c *imapclient.Client, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	cmd := c.Append("INBOX", st.Size(), nil)
	if _, err := io.Copy(cmd, f); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err = cmd.Wait()
	return err
}

// rulesTrusting copies rules/ferrara to a temporary directory and names
// the CA root among its PEC trust anchors (ufficio.yaml, pec.ancore_fiducia,
// a path relative to the rules directory): the daemon takes PEC anchors
// from the rules only.
func rulesTrusting(h *harness.H, root string) (string, error) {
	dir := filepath.Join(h.TempDir(), "ferrara")
	if err := os.CopyFS(dir, os.DirFS("rules/ferrara")); err != nil {
		return "", err
	}
	pem, err := os.ReadFile(root)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench-root.pem"), pem, 0o644); err != nil {
		return "", err
	}
	uf := filepath.Join(dir, "ufficio.yaml")
	b, err := os.ReadFile(uf)
	if err != nil {
		return "", err
	}
	s := strings.Replace(string(b), "ancore_fiducia: []", "ancore_fiducia: [bench-root.pem]", 1)
	if s == string(b) {
		return "", fmt.Errorf("%s has no \"ancore_fiducia: []\" to add the test CA to", uf)
	}
	return dir, os.WriteFile(uf, []byte(s), 0o644)
}

// tail returns the end of a log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
