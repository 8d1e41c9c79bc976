// Package demo runs gatewayd end to end on this machine alone: an
// in-process IMAP server on loopback holds sample mails for two of the
// Ferrara office's mailboxes, the real pipeline ingests them into a
// temporary SQLite store, and each decision is printed.
package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/intake"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/memimap"
	"gatewayd/internal/report"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
	"gatewayd/rules"
)

//go:embed samples/*.eml demo.yaml
var files embed.FS

// Options for Run.
type Options struct {
	Out      io.Writer // the demo's report
	Log      io.Writer // the daemon's log, when Verbose
	StateDir string    // kept when set; a removed temporary dir otherwise
	Verbose  bool
}

// sample is one mail to deliver into a mailbox of the demo server.
type sample struct {
	name, user string
	raw        []byte
}

// Run starts the server, delivers the samples, runs the daemon until every
// sample is recorded (or 30 s pass), and prints what became of each.
func Run(ctx context.Context, o Options) error {
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	sink, err := smtpsink.Start()
	if err != nil {
		return err
	}
	defer sink.Close()
	dir, cleanup, err := stateDir(o.StateDir)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg, err := demoConfig(srv.Addr, sink.Addr, dir)
	if err != nil {
		return err
	}
	samples, err := deliver(srv, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "gatewayd demo: %d sample mails delivered to %d mailboxes on %s (in-process IMAP)\n",
		len(samples), len(cfg.Mailboxes), srv.Addr)
	if o.StateDir == "" {
		fmt.Fprintf(o.Out, "state (SQLite + spool): %s (removed at exit; keep it with -state DIR)\n\n", dir)
	} else {
		fmt.Fprintf(o.Out, "state (SQLite + spool): %s\n\n", dir)
	}
	fmt.Fprintf(o.Out, "answers go to an SMTP sink on %s\n\n", sink.Addr)
	rec := &recorder{want: len(samples), done: make(chan struct{}), sink: sink}
	clk := &clock.Shifted{}
	var answers []smtpsink.Received
	err = runDaemon(ctx, cfg, o, rec, clk, func(d *daemon.Daemon) error {
		rec.print(o.Out)
		if err := printHistory(o.Out, dir, rec); err != nil {
			return err
		}
		answers = sink.Messages()
		if err := printAnswers(o.Out, answers); err != nil {
			return err
		}
		x := &deadlineDemo{w: o.Out, d: d, cfg: cfg, srv: srv, sink: sink, clk: clk, dir: dir, kept: o.StateDir != ""}
		return x.run(ctx)
	})
	return err
}

// printHistory shows the event log of the first protocolled sample.
func printHistory(w io.Writer, dir string, rec *recorder) error {
	label := ""
	for _, r := range rec.rows {
		if r.r.Protocol != "" && r.r.SeenAgain {
			label = r.r.Protocol // the one seen twice shows the most
		}
	}
	if label == "" {
		return nil
	}
	r, err := store.OpenReader(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	m, evs, err := r.History(context.Background(), label)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWhat is recorded of %s (gatewayd show --config %s %s):\n\n", label, filepath.Join(dir, "gatewayd.yaml"), label)
	report.History(w, m, evs)
	return nil
}

func stateDir(keep string) (string, func(), error) {
	if keep != "" {
		// The in-process server starts afresh, with UIDs from 1: an old
		// store would take the new mails for ones it already has.
		if entries, err := os.ReadDir(keep); err == nil && len(entries) > 0 {
			return "", nil, fmt.Errorf("-state %s is not empty: give a new or empty directory", keep)
		}
		return keep, func() {}, os.MkdirAll(keep, 0o750)
	}
	dir, err := os.MkdirTemp("", "gatewayd-demo-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// demoConfig fills the embedded demo configuration with the server's port
// and the state directory, and loads it like any operator's file.
func demoConfig(addr, smtpAddr, dir string) (*config.Config, error) {
	raw, err := files.ReadFile("demo.yaml")
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	_, smtpPort, _ := net.SplitHostPort(smtpAddr)
	pw := filepath.Join(dir, "imap-password")
	if err := os.WriteFile(pw, []byte("demo\n"), 0o600); err != nil {
		return nil, err
	}
	rulesDir := filepath.Join(dir, "rules-ferrara")
	if err := os.CopyFS(rulesDir, mustSub(rules.Examples, "ferrara")); err != nil {
		return nil, fmt.Errorf("writing the demo rules: %w", err)
	}
	if err := trustDemoCA(rulesDir); err != nil {
		return nil, err
	}
	text := strings.NewReplacer("@PORT@", port, "@STATE@", dir, "@PASSWORD_FILE@", pw, "@RULES@", rulesDir, "@SMTP_PORT@", smtpPort).Replace(string(raw))
	path := filepath.Join(dir, "gatewayd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, err
	}
	return config.Load(path)
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// deliver adds each mailbox's user and appends the samples: to its mailbox
// by the To address, the first one twice (a duplicate must not get a second
// number), plus one message over the demo's size cap.
func deliver(srv *memimap.Server, cfg *config.Config) ([]sample, error) {
	users := map[string]string{}
	for _, m := range cfg.Mailboxes {
		users[strings.ToLower(m.Address)] = m.IMAP.User
		if err := srv.AddUser(m.IMAP.User, m.IMAP.Password); err != nil {
			return nil, err
		}
	}
	samples, err := loadSamples(users, cfg.Mailboxes[0].IMAP.User)
	if err != nil {
		return nil, err
	}
	samples = append(samples, sample{name: "01-credito-artigiani.eml (again)", user: samples[0].user, raw: samples[0].raw},
		sample{name: "08-troppo-grande (generated)", user: cfg.Mailboxes[0].IMAP.User, raw: bigMessage()})
	samples = append(samples, pecSamples(users)...)
	for _, s := range samples {
		if err := srv.Append(s.user, "INBOX", s.raw); err != nil {
			return nil, fmt.Errorf("appending %s: %w", s.name, err)
		}
	}
	return samples, nil
}

func loadSamples(users map[string]string, fallback string) ([]sample, error) {
	names, _ := fs.Glob(files, "samples/*.eml")
	sort.Strings(names)
	var out []sample
	for _, n := range names {
		raw, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		user := fallback
		f, _ := mailparse.InspectHeader(bytes.NewReader(raw))
		if u, ok := users[strings.ToLower(f.To)]; ok {
			user = u
		}
		out = append(out, sample{name: filepath.Base(n), user: user, raw: raw})
	}
	return out, nil
}

// bigMessage is a well-formed mail with a 300 KB attachment, over the
// demo's 200KB cap.
func bigMessage() []byte {
	var b bytes.Buffer
	b.WriteString("From: archivio@example.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n" +
		"Subject: documentazione completa (allegato molto grande)\r\nDate: Fri, 20 Nov 2026 11:00:00 +0100\r\n" +
		"Message-ID: <grande@example.it>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
	for b.Len() < 300_000 {
		b.WriteString("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n")
	}
	return b.Bytes()
}

// runDaemon runs the daemon until the samples are recorded and answered,
// then runs then (with the daemon still running), then stops it.
func runDaemon(ctx context.Context, cfg *config.Config, o Options, rec *recorder, clk *clock.Shifted, then func(*daemon.Daemon) error) error {
	logw := io.Discard
	if o.Verbose {
		logw = o.Log
	}
	d := &daemon.Daemon{Config: cfg, Log: daemon.NewLogger(logw, cfg.Log), Observer: rec.observe, Now: clk.Now,
		Backoff: intake.Backoff{Base: 100 * time.Millisecond, Max: time.Second}}
	if err := d.Open(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var thenErr error
	go func() {
		defer cancel()
		deadline := time.After(30 * time.Second)
		select {
		case <-rec.done:
		case <-deadline:
		}
		for rec.answersDue() > len(rec.sink.Messages()) { // the answers go out
			select {
			case <-deadline:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		if rec.count() < rec.want {
			thenErr = fmt.Errorf("only %d of %d sample mails were recorded in 30s (run with -v to see the log)", rec.count(), rec.want)
			return
		}
		thenErr = then(d)
	}()
	if err := d.Run(ctx); err != nil {
		return err
	}
	if thenErr != nil {
		return thenErr
	}
	if n, due := len(rec.sink.Messages()), rec.answersDue(); n < due {
		return fmt.Errorf("only %d of %d answers were sent in 30s (run with -v to see the log)", n, due)
	}
	return nil
}

// recorder collects the results the daemon reports.
type recorder struct {
	mu   sync.Mutex
	rows []row
	want int
	done chan struct{}
	sink *smtpsink.Sink
}

// answersDue counts the answers the recorded mails get: accepted and
// refused ones, the first time they are seen.
func (rec *recorder) answersDue() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, r := range rec.rows {
		if !r.r.SeenAgain && (r.r.Outcome == "accepted" || r.r.Outcome == "refused") {
			n++
		}
	}
	return n
}

type row struct {
	mailbox string
	r       store.Result
	subject string
}

func (rec *recorder) observe(mailbox string, r store.Result, f mailparse.Facts) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.rows = append(rec.rows, row{mailbox: mailbox, r: r, subject: f.Subject})
	if len(rec.rows) == rec.want {
		close(rec.done)
	}
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.rows)
}

func (rec *recorder) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MAILBOX\tUID\tOUTCOME\tPROTOCOL / REASONS\tDUE\tSUBJECT")
	for _, r := range rec.rows {
		what := r.r.Protocol
		if len(r.r.Reasons) > 0 {
			what = strings.Join(r.r.Reasons, ",")
		}
		if r.r.SeenAgain {
			what += " (seen again: nothing new assigned)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.mailbox, r.r.UID, r.r.Outcome, what, r.r.Due, shorten(r.subject, 50))
	}
	tw.Flush()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
