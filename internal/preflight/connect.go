package preflight

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/internal/config"
	"gatewayd/internal/imapconn"
	"gatewayd/internal/outbox"
)

// Timeout bounds the check of one account.
const Timeout = 30 * time.Second

// Connect logs in to every mailbox's IMAP and SMTP account, lists the
// folders each mailbox will use and whether they exist, and writes what it
// found to w. It returns how many problems it found: an account it could
// not log in to, a watched or Sent folder missing (a missing outcome folder
// is created at start: no problem).
func Connect(ctx context.Context, cfg *config.Config, w io.Writer) int {
	problems := 0
	for _, m := range cfg.Mailboxes {
		problems += connectIMAP(ctx, cfg, m, w)
		if m.SMTP != nil {
			problems += connectSMTP(ctx, m, w)
		}
	}
	return problems
}

func connectIMAP(ctx context.Context, cfg *config.Config, m config.Mailbox, w io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	fmt.Fprintf(w, "mailbox %s: IMAP %s at %s (%s): ", m.Name, m.IMAP.User, m.IMAP.Address(), m.IMAP.TLS)
	c, err := imapconn.Dial(ctx, m.IMAP, &imapclient.Options{})
	if err != nil {
		fmt.Fprintf(w, "FAILED: %v\n", err)
		return 1
	}
	defer c.Close()
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		fmt.Fprintf(w, "logged in, but listing the folders failed: %v\n", err)
		return 1
	}
	fmt.Fprintln(w, "logged in")
	problems := 0
	for _, f := range folders(cfg, m, list) {
		fmt.Fprintf(w, "  %-12s %-32s %s\n", f.use, f.name, f.state)
		if f.problem {
			problems++
		}
	}
	c.Logout().Wait()
	return problems
}

func connectSMTP(ctx context.Context, m config.Mailbox, w io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	who := "no AUTH"
	if m.SMTP.User != "" {
		who = m.SMTP.User
	}
	fmt.Fprintf(w, "mailbox %s: SMTP %s at %s (%s), from %s: ", m.Name, who, m.SMTP.Address(), m.SMTP.TLS, m.SMTP.From)
	if _, err := outbox.Probe(ctx, m.SMTP); err != nil {
		fmt.Fprintf(w, "FAILED: %v\n", err)
		return 1
	}
	if m.SMTP.User != "" {
		fmt.Fprintln(w, "logged in")
	} else {
		fmt.Fprintln(w, "connected")
	}
	return 0
}

// folder is one folder a mailbox uses and what the server has of it.
type folder struct {
	use, name, state string
	problem          bool
}

// folders are the watched folder, the outcome folders (with the server's
// delimiter for "/", as intake resolves them) and the Sent folder.
func folders(cfg *config.Config, m config.Mailbox, list []*imap.ListData) []folder {
	exists := map[string]bool{}
	sent := ""
	delim := rune('/')
	for i, l := range list {
		exists[l.Mailbox] = true
		if strings.EqualFold(l.Mailbox, "INBOX") {
			exists["INBOX"] = true
		}
		if i == 0 && l.Delim != 0 {
			delim = l.Delim
		}
		if sent == "" && slices.Contains(l.Attrs, imap.MailboxAttrSent) {
			sent = l.Mailbox
		}
	}
	name := func(n string) string {
		if strings.EqualFold(n, "INBOX") {
			return "INBOX"
		}
		return strings.ReplaceAll(n, "/", string(delim))
	}
	watched := folder{use: "watched", name: name(m.Folder), state: "exists"}
	if !exists[watched.name] {
		watched.state, watched.problem = "MISSING: the mailbox cannot be read", true
	}
	out := []folder{watched}
	for _, o := range []struct{ use, name string }{{"accepted", m.Folders.Accepted}, {"refused", m.Folders.Refused},
		{"ignored", m.Folders.Ignored}, {"quarantine", m.Folders.Quarantine}} {
		f := folder{use: o.use, name: name(o.name), state: "exists"}
		if !exists[f.name] {
			f.state = "missing: created at start"
		}
		out = append(out, f)
	}
	return append(out, sentFolder(cfg, m, exists, sent))
}

// sentFolder is the Sent folder the daemon will read, if any.
func sentFolder(cfg *config.Config, m config.Mailbox, exists map[string]bool, marked string) folder {
	f := folder{use: "sent"}
	switch {
	case cfg.RulesDir == "" || !m.WatchSent():
		f.name, f.state = "-", "not watched"
	case m.SentFolder != "" && exists[m.SentFolder]:
		f.name, f.state = m.SentFolder, "exists"
	case m.SentFolder != "":
		f.name, f.state, f.problem = m.SentFolder, "MISSING: replies in Sent cannot close cases", true
	case marked != "":
		f.name, f.state = marked, `exists (marked \Sent)`
	default:
		f.name, f.state, f.problem = "-", `MISSING: no folder is marked \Sent: name it with sent_folder (or sent_folder: none)`, true
	}
	return f
}
