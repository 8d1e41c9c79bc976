package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"gatewayd/internal/protocol"
)

type validator struct {
	file    string
	lines   lineIndex
	errs    Errors
	secrets bool // read the passwords (false: only check how they are given)
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, Error{File: v.file, Line: v.lines.line(path), Msg: fmt.Sprintf(format, args...)})
}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
)

func (c *Config) validate(v *validator) {
	if strings.TrimSpace(c.Office.Name) == "" {
		v.errf("office", "office.name is required")
	}
	if !codeRE.MatchString(c.Office.Code) {
		v.errf("office.code", "office.code %q must be 1 to 16 letters, digits, - or _", c.Office.Code)
	}
	c.Office.Line = v.lines.line("office.code")
	f, err := protocol.Parse(c.Protocol.Format)
	if err != nil {
		v.errf("protocol.format", "%v", err)
	}
	c.Protocol.Parsed = f
	if err == nil && !strings.Contains(c.Protocol.Format, "{year}") {
		v.errf("protocol.format", "protocol.format %q: write {year} in it: numbers restart each year (DPR 445/2000 art. 57), and a label without the year would repeat", c.Protocol.Format)
	}
	if err == nil && f.NumberWidth() < 7 {
		v.errf("protocol.format", "protocol.format %q: the number needs at least 7 digits, write {number:7} (DPR 445/2000 art. 57)", c.Protocol.Format)
	}
	if c.HTTP.Listen != "none" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			v.errf("http.listen", "http.listen %q: write host:port (127.0.0.1:9465), or none", c.HTTP.Listen)
		}
	}
	if c.HTTP.StaleAfter < time.Minute {
		v.errf("http.stale_after", "http.stale_after %v: at least 1m", c.HTTP.StaleAfter)
	}
	switch r := c.Register; {
	case r.HandoverDir != "" && len(r.HandoverCommand) > 0:
		v.errf("register", "register: set handover_dir or handover_command, not both")
	case r.HandoverDir != "" && !strings.HasPrefix(r.HandoverDir, "/"):
		v.errf("register.handover_dir", "register.handover_dir %q must be an absolute path", r.HandoverDir)
	case len(r.HandoverCommand) > 0 && !strings.HasPrefix(r.HandoverCommand[0], "/"):
		v.errf("register.handover_command", "register.handover_command: the program %q must be an absolute path", r.HandoverCommand[0])
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.errf("log.level", "log.level %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		v.errf("log.format", "log.format %q: use text or json", c.Log.Format)
	}
	if c.RulesDir != "" {
		if st, err := os.Stat(c.RulesDir); err != nil || !st.IsDir() {
			v.errf("rules_dir", "rules_dir %q is not a directory", c.RulesDir)
		}
	}
	if c.Outbox.MinBackoff < 100*time.Millisecond || c.Outbox.MaxBackoff < c.Outbox.MinBackoff {
		v.errf("outbox", "outbox: min_backoff %v must be at least 100ms and not above max_backoff %v",
			c.Outbox.MinBackoff, c.Outbox.MaxBackoff)
	}
	if len(c.Mailboxes) == 0 {
		v.errf("mailboxes", "at least one mailbox is required")
	}
	seen := map[string]bool{}
	for i := range c.Mailboxes {
		m := &c.Mailboxes[i]
		p := fmt.Sprintf("mailboxes.%d", i)
		if seen[m.Name] {
			v.errf(p+".name", "mailbox name %q is used twice", m.Name)
		}
		seen[m.Name] = true
		m.validate(v, p)
	}
}

func (m *Mailbox) validate(v *validator, p string) {
	m.Line = v.lines.line(p)
	if !nameRE.MatchString(m.Name) {
		v.errf(p+".name", "mailbox name %q: use lowercase letters, digits, - and _ (it keys the stored state)", m.Name)
	}
	if !validAddress(m.Address) {
		v.errf(p+".address", "mailbox address %q is not an e-mail address", m.Address)
	}
	m.IMAP.validate(v, p+".imap", "imap", true)
	if m.SMTP != nil {
		m.SMTP.validate(v, p+".smtp", "smtp", false)
		if m.SMTP.User != "" && m.SMTP.TLS == TLSPlain {
			v.errf(p+".smtp.tls", "smtp: AUTH is sent only over TLS: use implicit or starttls with a user")
		}
		if !validAddress(m.SMTP.From) {
			v.errf(p+".smtp.from", "smtp.from %q is not an e-mail address", m.SMTP.From)
		}
	}
	for _, f := range []struct{ key, name string }{
		{"accepted", m.Folders.Accepted}, {"refused", m.Folders.Refused},
		{"ignored", m.Folders.Ignored}, {"quarantine", m.Folders.Quarantine},
	} {
		if strings.EqualFold(f.name, m.Folder) {
			v.errf(p+".folders."+f.key, "folder %q is the watched folder: messages would loop", f.name)
		}
	}
	if m.PollInterval < time.Second {
		v.errf(p+".poll_interval", "poll_interval %v is under 1s", m.PollInterval)
	}
	if m.MaxMessageSize < 1024 {
		v.errf(p+".max_message_size", "max_message_size %d is under 1KB", m.MaxMessageSize)
	}
	if m.BatchSize < 1 || m.BatchSize > 1000 {
		v.errf(p+".batch_size", "batch_size %d: use 1 to 1000", m.BatchSize)
	}
}

func (i *Server) validate(v *validator, p, what string, userRequired bool) {
	if i.Host == "" {
		v.errf(p, "%s.host is required", what)
	}
	if i.Port < 1 || i.Port > 65535 {
		v.errf(p+".port", "%s.port %d is not a port", what, i.Port)
	}
	switch i.TLS {
	case TLSImplicit, TLSStartTLS:
	case TLSPlain:
		if i.Host != "" && !isLoopback(i.Host) {
			v.errf(p+".tls", "%s.tls plain is allowed only on loopback, not for %q: use implicit or starttls", what, i.Host)
		}
	default:
		v.errf(p+".tls", "%s.tls %q: use implicit, starttls or plain", what, i.TLS)
	}
	switch {
	case i.User == "" && userRequired:
		v.errf(p, "%s.user is required", what)
	case i.User != "":
		i.loadPassword(v, p)
	}
	i.loadCAs(v, p)
}

// loadCAs adds the certificates of ca_file to the system's trust.
func (i *Server) loadCAs(v *validator, p string) {
	if i.CAFile == "" {
		return
	}
	if i.TLS == TLSPlain {
		v.errf(p+".ca_file", "ca_file is set but imap.tls is plain")
	}
	pem, err := os.ReadFile(i.CAFile)
	if err != nil {
		v.errf(p+".ca_file", "cannot read ca_file: %v", unwrapPath(err))
		return
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		v.errf(p+".ca_file", "ca_file %s holds no PEM certificate", i.CAFile)
		return
	}
	i.RootCAs = pool
}

// loadPassword reads the password from its file or environment variable.
func (i *Server) loadPassword(v *validator, p string) {
	switch {
	case i.PasswordFile != "" && i.PasswordEnv != "":
		v.errf(p+".password_env", "set password_file or password_env, not both")
	case !v.secrets && (i.PasswordFile != "" || i.PasswordEnv != ""):
		// An operator's command reads the store, not the mail accounts.
	case i.PasswordFile != "":
		b, err := os.ReadFile(i.PasswordFile)
		if err != nil {
			v.errf(p+".password_file", "cannot read password_file: %v", unwrapPath(err))
			return
		}
		i.Password = strings.TrimRight(string(b), "\r\n")
		if i.Password == "" {
			v.errf(p+".password_file", "password_file %s is empty", i.PasswordFile)
		}
	case i.PasswordEnv != "":
		i.Password = os.Getenv(i.PasswordEnv)
		if i.Password == "" {
			v.errf(p+".password_env", "environment variable %s is not set or empty", i.PasswordEnv)
		}
	default:
		v.errf(p, "set password_file or password_env (passwords are never written inline)")
	}
}
