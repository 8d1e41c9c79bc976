package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad_good(t *testing.T) {
	pw := writeFile(t, "pw", "s3greta\n")
	cfg, err := Parse("g.yaml", []byte(`office: {name: Ferrara, code: FE}
state_dir: /tmp/x
mailboxes:
  - name: pec
    address: direzione.provinciale.ferrara@postacert.inps.gov.it
    imap: {host: imap.example.it, user: pec, password_file: `+pw+`}
    max_message_size: 25MB
`))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	m := cfg.Mailboxes[0]
	if m.IMAP.Password != "s3greta" || m.IMAP.Port != 993 || m.IMAP.TLS != TLSImplicit {
		t.Errorf("imap = %+v, want password from file, port 993, implicit TLS", m.IMAP)
	}
	if m.MaxMessageSize != 25e6 || m.PollInterval != time.Minute || m.Folder != "INBOX" || m.Folders.Quarantine != "gatewayd/quarantine" {
		t.Errorf("defaults = %+v", m)
	}
	if got := cfg.Protocol.Parsed.Label("FE", 2026, 42); got != "INPS.FE.2026.0000042" {
		t.Errorf("label = %q", got)
	}
}

// TestLoad_allErrorsAtOnce: every problem is reported, each with its line.
func TestLoad_allErrorsAtOnce(t *testing.T) {
	t.Setenv("GW_EMPTY", "")
	_, err := Parse("bad.yaml", []byte(`office: {name: Ferrara, code: "F E"}
protocol: {format: "INPS.{anno}.{number}"}
mailboxes:
  - name: pec
    address: not-an-address
    imap:
      host: imap.example.it
      port: 99999
      tls: plain
      user: pec
      password_env: GW_EMPTY
    folders: {accepted: INBOX}
    poll_interval: 10ms
  - name: pec
    address: a@b.it
    imap: {host: h, user: u, password_file: /nonexistent/pw}
    colour: blue
`))
	want := []string{
		"bad.yaml:1: office.code",
		"bad.yaml:2: unknown placeholder {anno}",
		"bad.yaml:5: mailbox address",
		"bad.yaml:8: imap.port 99999",
		"bad.yaml:9: imap.tls plain is allowed only on loopback",
		"bad.yaml:11: environment variable GW_EMPTY",
		"bad.yaml:12: folder \"INBOX\" is the watched folder",
		"bad.yaml:13: poll_interval",
		"bad.yaml:14: mailbox name \"pec\" is used twice",
		"bad.yaml:16: cannot read password_file",
		"bad.yaml:17: unknown key \"colour\"",
	}
	if err == nil {
		t.Fatal("Parse() = nil, want errors")
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("errors lack %q; got:\n%s", w, got)
		}
	}
	if n := len(err.(Errors)); n != len(want) {
		t.Errorf("%d errors, want %d:\n%s", n, len(want), got)
	}
}

func TestLoad_syntaxError(t *testing.T) {
	_, err := Parse("s.yaml", []byte("office:\n  name: [unclosed\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "s.yaml:") {
		t.Errorf("Parse() = %v, want a s.yaml:N: error", err)
	}
}

func TestLoad_missingFile(t *testing.T) {
	_, err := Load("/nonexistent/gatewayd.yaml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/gatewayd.yaml: cannot read") {
		t.Errorf("Load() = %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"25MB": 25e6, "512KB": 512e3, "1GiB": 1 << 30, "100": 100, "2 MiB": 2 << 20, "7b": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "ten"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = nil error", in)
		}
	}
}

func TestLoad_smtp(t *testing.T) {
	pw := writeFile(t, "pw", "x")
	base := "office: {name: X, code: FE}\nmailboxes:\n  - name: a\n    address: a@b.it\n    imap: {host: imap.b.it, user: a, password_file: " + pw + "}\n"
	cfg, err := Parse("s.yaml", []byte(base+"    smtp: {host: smtp.b.it, user: a, password_file: "+pw+"}\n"))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if s := cfg.Mailboxes[0].SMTP; s.Port != 465 || s.TLS != TLSImplicit || s.From != "a@b.it" || s.Password != "x" {
		t.Errorf("smtp = %+v", s)
	}
	_, err = Parse("s.yaml", []byte(base+"    smtp: {host: 127.0.0.1, tls: plain, user: a, password_file: "+pw+"}\n"))
	if err == nil || !strings.Contains(err.Error(), "s.yaml:6: smtp: AUTH is sent only over TLS") {
		t.Errorf("plain SMTP with a user: %v", err)
	}
	cfg, err = Parse("s.yaml", []byte(base+"    smtp: {host: 127.0.0.1, tls: plain}\n"))
	if err != nil || cfg.Mailboxes[0].SMTP.Port != 25 {
		t.Errorf("plain loopback relay without AUTH: %v", err)
	}
}

// TestLoad_plainMessages: an unknown key and a value of the wrong kind
// are said in the file's terms, not Go's.
func TestLoad_plainMessages(t *testing.T) {
	data := "office: {name: X, code: FE}\nmailboxes:\n  - name: a\n    address: a@b.it\n    pol_interval: 1m\n    poll_interval: 1 minute\n"
	_, err := Parse("g.yaml", []byte(data))
	for _, want := range []string{`g.yaml:5: unknown key "pol_interval"`, `g.yaml:6: "1 minute" is not a duration`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
