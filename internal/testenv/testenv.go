// Package testenv holds helpers shared by gatewayd's tests: generated
// messages, configurations pointing at a test IMAP server, and waiting.
package testenv

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"gatewayd/internal/config"
	"gatewayd/internal/testenv/dovecot"
)

// T is what the helpers need of a test; testing.TB has it.
type T = dovecot.T

// Message returns a well-formed message with a unique Message-ID and a
// body of about size bytes.
func Message(id string, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Studio Test <studio@example.it>\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
		"Subject: RSSMRA85T10A562S - artigiani - richiesta %s\r\nDate: Mon, 16 Nov 2026 09:00:00 +0100\r\n"+
		"Message-ID: <%s@test.example.it>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", id, id)
	line := "Testo della richiesta, riga di esempio per riempire il corpo del messaggio.\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return []byte(b.String())
}

// Messages returns n messages named prefix-0 … prefix-(n-1), sizes 1–8 KB.
func Messages(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = Message(fmt.Sprintf("%s-%d", prefix, i), 1000+rand.IntN(7000))
	}
	return out
}

// Mailbox describes one mailbox of a test configuration.
type Mailbox struct {
	Name, Address, Addr, User, Password, Folder string
	PollInterval                                string // default 1s
	TLS, CAFile                                 string // default plain
	SMTPAddr                                    string // host:port of a plain SMTP account for answers
	Extra                                       string // more YAML lines for the mailbox, indented by 4
}

// Config writes a configuration for the mailboxes into dir and loads it.
func Config(t T, stateDir string, boxes ...Mailbox) *config.Config {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "office: {name: Test, code: FE}\nstate_dir: %q\nlog: {level: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nmailboxes:\n", stateDir, logLevel())
	for i, m := range boxes {
		pw := filepath.Join(dir, fmt.Sprintf("pw%d", i))
		if err := os.WriteFile(pw, []byte(m.Password), 0o600); err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(m.Addr, ":")
		folder := m.Folder
		if folder == "" {
			folder = "INBOX"
		}
		poll := m.PollInterval
		if poll == "" {
			poll = "1s"
		}
		tlsMode, ca := m.TLS, ""
		if tlsMode == "" {
			tlsMode = "plain"
		}
		if m.CAFile != "" {
			ca = fmt.Sprintf(", ca_file: %q", m.CAFile)
		}
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n    folder: %q\n    poll_interval: %s\n"+
			"    imap: {host: %s, port: %s, tls: %s, user: %s, password_file: %q%s}\n%s",
			m.Name, m.Address, folder, poll, host, port, tlsMode, m.User, pw, ca, m.Extra)
		if m.SMTPAddr != "" {
			sh, sp, _ := strings.Cut(m.SMTPAddr, ":")
			fmt.Fprintf(&b, "    smtp: {host: %s, port: %s, tls: plain}\n", sh, sp)
		}
	}
	path := filepath.Join(dir, "gatewayd.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("test config: %v\n%s", err, b.String())
	}
	return cfg
}

// Eventually calls cond every 50 ms until it holds, failing the test with
// cond's last description after timeout.
func Eventually(t T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached after %v: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// OpenDB opens a state directory's database for inspection.
func OpenDB(t T, stateDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(stateDir, "gatewayd.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Int runs a query returning one integer.
func Int(t T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "unable to open database file") {
			return 0
		}
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// CheckProtocols verifies the numbers of office FE and year are exactly
// 1..want, each given to one message, and returns nothing on success.
func CheckProtocols(t T, db *sql.DB, year, want int) {
	t.Helper()
	rows, err := db.Query(`SELECT number FROM protocols WHERE office = 'FE' AND register = 'protocollo' AND year = ? ORDER BY number`, year)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	next := 1
	for rows.Next() {
		var n int
		rows.Scan(&n)
		if n != next {
			t.Fatalf("protocol numbers of %d: got %d where %d was due (a gap or a double)", year, n, next)
		}
		next++
	}
	if next-1 != want {
		t.Fatalf("protocol numbers of %d: %d given, want %d", year, next-1, want)
	}
	if d := Int(t, db, `SELECT count(*) FROM (SELECT message FROM protocols GROUP BY message HAVING count(*) > 1)`); d != 0 {
		t.Fatalf("%d messages hold more than one protocol number", d)
	}
}

// logLevel is debug, or $GATEWAYD_TEST_LOG_LEVEL.
func logLevel() string {
	if l := os.Getenv("GATEWAYD_TEST_LOG_LEVEL"); l != "" {
		return l
	}
	return "debug"
}
