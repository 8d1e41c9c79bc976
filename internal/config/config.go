// Package config loads gatewayd's configuration file: the office, the state
// directory and the mailboxes to watch. Every problem is reported at once,
// each as file:line: message.
package config

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"gatewayd/internal/protocol"
)

// Config is a loaded, validated configuration.
type Config struct {
	File     string   `yaml:"-"`
	Office   Office   `yaml:"office"`
	StateDir string   `yaml:"state_dir"`
	RulesDir string   `yaml:"rules_dir"`
	Protocol Protocol `yaml:"protocol"`
	Log      Log      `yaml:"log"`
	// Shadow: everything runs and is recorded, answers are rendered and
	// kept as held, nothing is sent (run --shadow sets it too).
	Shadow    bool      `yaml:"shadow"`
	Outbox    Outbox    `yaml:"outbox"`
	Register  Register  `yaml:"register"`
	HTTP      HTTP      `yaml:"http"`
	Mailboxes []Mailbox `yaml:"mailboxes"`
	lines     lineIndex // where each key stands in the file
}

// ErrorAt returns a problem at the line of key, a dotted path such as
// "state_dir" or "mailboxes.0.imap.password_file" (or of its nearest
// ancestor in the file).
func (c *Config) ErrorAt(key, format string, args ...any) Error {
	return Error{File: c.File, Line: c.lines.line(key), Msg: fmt.Sprintf(format, args...)}
}

// HTTP is the listener of /metrics and /healthz: Listen is host:port
// (loopback by default; "none" turns it off); a mailbox not synced for
// longer than StaleAfter makes /healthz answer 503.
type HTTP struct {
	Listen     string        `yaml:"listen"`
	StaleAfter time.Duration `yaml:"stale_after"`
}

// DefaultListen is where /metrics and /healthz are served by default.
const DefaultListen = "127.0.0.1:9465"

// Register sets where each day's register files (registro giornaliero)
// are handed over to conservation: copied into HandoverDir, or given to
// HandoverCommand (argv; the CSV and JSON paths are appended). Neither:
// the files stay in state_dir/registro for the operator to collect.
type Register struct {
	HandoverDir     string   `yaml:"handover_dir"`
	HandoverCommand []string `yaml:"handover_command"`
}

// Outbox paces the retries of answers after temporary failures: the wait
// doubles from MinBackoff to MaxBackoff, jittered.
type Outbox struct {
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Office identifies the office whose protocol this is.
type Office struct {
	Name string `yaml:"name"`
	Code string `yaml:"code"`
	Line int    `yaml:"-"` // where office.code stands in the file
}

// Protocol sets how protocol numbers are written.
type Protocol struct {
	Format string          `yaml:"format"`
	Parsed protocol.Format `yaml:"-"`
}

// Log sets the log level (debug, info, warn, error) and format (text, json).
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Mailbox is one watched IMAP folder and where its messages go.
type Mailbox struct {
	Name           string        `yaml:"name"`
	Address        string        `yaml:"address"`
	IMAP           Server        `yaml:"imap"`
	SMTP           *SMTP         `yaml:"smtp"` // the account that sends this mailbox's answers
	Folder         string        `yaml:"folder"`
	Folders        Folders       `yaml:"folders"`
	PollInterval   time.Duration `yaml:"poll_interval"`
	Idle           *bool         `yaml:"idle"`
	MaxMessageSize Size          `yaml:"max_message_size"`
	BatchSize      int           `yaml:"batch_size"`
	// SentFolder is where the office's staff keep what they send: the
	// gateway reads it (never changes it) to see replies. Empty: the
	// folder the server marks \Sent (RFC 6154); "none": not watched.
	SentFolder string `yaml:"sent_folder"`
	Line       int    `yaml:"-"` // where the mailbox stands in the file
}

// MailboxNamed is the configured mailbox of a name.
func (c *Config) MailboxNamed(name string) (Mailbox, bool) {
	if c != nil {
		for _, m := range c.Mailboxes {
			if m.Name == name {
				return m, true
			}
		}
	}
	return Mailbox{}, false
}

// FindMailbox is the configured mailbox a name or an address (any case)
// stands for: what operators may type.
func (c *Config) FindMailbox(nameOrAddress string) (Mailbox, bool) {
	if m, ok := c.MailboxNamed(nameOrAddress); ok {
		return m, true
	}
	for _, m := range c.Mailboxes {
		if strings.EqualFold(m.Address, nameOrAddress) {
			return m, true
		}
	}
	return Mailbox{}, false
}

// Sender is the configured mailbox whose SMTP account sends a mailbox's
// mail, and its From address (the mailbox's address without an account).
func (c *Config) Sender(name string) (string, string) {
	m, ok := c.MailboxNamed(name)
	switch {
	case ok && m.SMTP != nil:
		return m.Name, m.SMTP.From
	case ok:
		return m.Name, m.Address
	}
	return name, ""
}

// WatchSent reports whether the mailbox's Sent folder is watched.
func (m Mailbox) WatchSent() bool { return m.SentFolder != "none" }

// UseIdle reports whether IDLE is used when the server advertises it.
func (m Mailbox) UseIdle() bool { return m.Idle == nil || *m.Idle }

// SMTP is a submission account: a server and the address answers come from.
type SMTP struct {
	Server `yaml:",inline"`
	From   string `yaml:"from"` // default: the mailbox's address
}

// Server is how to reach and log in to an IMAP or SMTP server.
type Server struct {
	Host         string         `yaml:"host"`
	Port         int            `yaml:"port"`
	TLS          string         `yaml:"tls"` // implicit, starttls, plain
	User         string         `yaml:"user"`
	PasswordFile string         `yaml:"password_file"`
	PasswordEnv  string         `yaml:"password_env"`
	CAFile       string         `yaml:"ca_file"` // PEM certificates trusted beside the system's
	Password     string         `yaml:"-"`       // read from the file or the environment
	RootCAs      *x509.CertPool `yaml:"-"`       // nil: the system's
}

// Address returns host:port.
func (i Server) Address() string { return net.JoinHostPort(i.Host, fmt.Sprint(i.Port)) }

// Folders are the destinations per outcome; a "/" in a name stands for the
// server's hierarchy delimiter.
type Folders struct {
	Accepted   string `yaml:"accepted"`
	Refused    string `yaml:"refused"`
	Ignored    string `yaml:"ignored"`
	Quarantine string `yaml:"quarantine"`
}

// TLS modes.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSPlain    = "plain"
)

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}}
	}
	return Parse(path, data)
}

// LoadAll is Load for gatewayd check: beside every problem it returns the
// configuration as far as it could be read, so that what depends on it
// (the rules, the state directory, the secrets) can be checked too. It
// returns no configuration only when the file cannot be read or is not
// YAML.
func LoadAll(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}}
	}
	return parse(path, data, true)
}

// LoadForTool is Load for the operators' commands that read and write the
// store and never log in to a mail account (all but run and check): the
// passwords are not read, so a password_env set only in the service's
// environment, or a password file only the service reads, does not stop
// them.
func LoadForTool(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}}
	}
	c, err := parse(path, data, false)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Parse validates configuration data; path names the file in errors.
func Parse(path string, data []byte) (*Config, error) {
	c, err := parse(path, data, true)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parse decodes and validates data, returning the configuration even with
// errors when the YAML could be read.
func parse(path string, data []byte, secrets bool) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErrors(path, err)
	}
	c := &Config{File: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var decodeErrs Errors
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, yamlErrors(path, err)
		}
		decodeErrs = yamlErrors(path, err) // go on: report every problem at once
	}
	c.lines = indexLines(&root)
	v := &validator{file: path, lines: c.lines, secrets: secrets}
	c.applyDefaults()
	c.validate(v)
	if errs := merge(decodeErrs, v.errs); len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// merge joins decoding and validation errors in line order, dropping a
// validation error on a line that already has a decoding error (a value
// that could not be read is also, as a consequence, invalid).
func merge(decode, valid Errors) Errors {
	bad := map[int]bool{}
	for _, e := range decode {
		bad[e.Line] = true
	}
	out := append(Errors{}, decode...)
	for _, e := range valid {
		if !bad[e.Line] {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlErrors turns yaml.v3's "line N: msg" errors into Errors.
func yamlErrors(path string, err error) Errors {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Errors
	for _, m := range msgs {
		e := Error{File: path, Msg: m}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			fmt.Sscan(g[1], &e.Line)
			e.Msg = g[2]
		}
		e.Msg = plainYAML(e.Msg)
		out = append(out, e)
	}
	return out
}

var (
	yamlUnknown = regexp.MustCompile("^field (\\S+) not found in type \\S+$")
	yamlType    = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")
	// yamlKinds names the Go types a value of the files may have to be.
	yamlKinds = map[string]string{"time.Duration": "a duration (write 90s, 15m, 1h30m)", "int": "a whole number",
		"int64": "a whole number", "uint32": "a whole number", "bool": "true or false", "string": "text"}
)

// plainYAML says yaml.v3's messages in the file's terms, without Go's
// type names: an unknown key, a value of the wrong kind.
func plainYAML(msg string) string {
	if g := yamlUnknown.FindStringSubmatch(msg); g != nil {
		return fmt.Sprintf("unknown key %q", g[1])
	}
	if g := yamlType.FindStringSubmatch(msg); g != nil {
		if kind, ok := yamlKinds[g[2]]; ok {
			return fmt.Sprintf("%q is not %s", g[1], kind)
		}
		return fmt.Sprintf("%q is not a value this key takes", g[1])
	}
	return msg
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// applyDefaults fills what the file leaves out.
func (c *Config) applyDefaults() {
	if c.StateDir == "" {
		c.StateDir = "/var/lib/gatewayd"
	}
	if c.Protocol.Format == "" {
		c.Protocol.Format = protocol.DefaultFormat
	}
	if c.Outbox.MinBackoff == 0 {
		c.Outbox.MinBackoff = 30 * time.Second
	}
	if c.Outbox.MaxBackoff == 0 {
		c.Outbox.MaxBackoff = time.Hour
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultListen
	}
	if c.HTTP.StaleAfter == 0 {
		c.HTTP.StaleAfter = 15 * time.Minute
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	for i := range c.Mailboxes {
		c.Mailboxes[i].applyDefaults()
	}
}

func (m *Mailbox) applyDefaults() {
	if m.Folder == "" || strings.EqualFold(m.Folder, "INBOX") { // INBOX is one name in any case (RFC 3501 5.1)
		m.Folder = "INBOX"
	}
	defaults := Folders{Accepted: "gatewayd/accepted", Refused: "gatewayd/refused",
		Ignored: "gatewayd/ignored", Quarantine: "gatewayd/quarantine"}
	for _, f := range []struct {
		v *string
		d string
	}{
		{&m.Folders.Accepted, defaults.Accepted}, {&m.Folders.Refused, defaults.Refused},
		{&m.Folders.Ignored, defaults.Ignored}, {&m.Folders.Quarantine, defaults.Quarantine},
	} {
		if *f.v == "" {
			*f.v = f.d
		}
	}
	m.IMAP.defaults(993, 143, 143)
	if m.SMTP != nil {
		m.SMTP.defaults(465, 587, 25)
		if m.SMTP.From == "" {
			m.SMTP.From = m.Address
		}
	}
	if m.PollInterval == 0 {
		m.PollInterval = time.Minute
	}
	if m.MaxMessageSize == 0 {
		m.MaxMessageSize = 100e6
	}
	if m.BatchSize == 0 {
		m.BatchSize = 250
	}
}

// defaults sets TLS (implicit) and the port of its mode.
func (i *Server) defaults(implicit, starttls, plain int) {
	if i.TLS == "" {
		i.TLS = TLSImplicit
	}
	if i.Port == 0 {
		i.Port = map[string]int{TLSImplicit: implicit, TLSStartTLS: starttls, TLSPlain: plain}[i.TLS]
	}
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validAddress reports whether s is a bare e-mail address.
func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}
