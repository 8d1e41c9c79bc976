package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// cmdMessages lists messages: gatewayd messages --config FILE list
// [--mailbox A] [--outcome O] [--reason R] [--from ADDR] [--cf CODE]
// [--since DATE] [--until DATE] [--json]. Dates are days in Europe/Rome,
// both included.
func cmdMessages(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("messages", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	usage := "usage: gatewayd messages --config FILE list [--mailbox NAME|ADDRESS] [--outcome O] [--reason R] [--from ADDR] [--cf CODE] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]"
	fs := flag.NewFlagSet("messages list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f store.Filter
	fs.StringVar(&f.Mailbox, "mailbox", "", "configured mailbox: its name or its address")
	fs.StringVar(&f.Outcome, "outcome", "", "accepted, refused, ignored or quarantined")
	fs.StringVar(&f.Reason, "reason", "", "a reason code")
	fs.StringVar(&f.From, "from", "", "the sender's address, or part of it")
	fs.StringVar(&f.CF, "cf", "", "a codice fiscale or partita IVA")
	since := fs.String("since", "", "first day, YYYY-MM-DD")
	until := fs.String("until", "", "last day, YYYY-MM-DD")
	asJSON := fs.Bool("json", false, "one JSON array")
	if len(rest) == 0 || rest[0] != "list" || fs.Parse(rest[1:]) != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	var ok bool
	if f.Mailbox, ok = mailboxArg(cfg, "messages", f.Mailbox, stderr); !ok {
		return exitBadConfig
	}
	switch triage.Outcome(f.Outcome) {
	case "", triage.Accepted, triage.Refused, triage.Ignored, triage.Quarantined:
	default:
		fmt.Fprintf(stderr, "gatewayd messages: --outcome %q: accepted, refused, ignored or quarantined\n", f.Outcome)
		return exitBadConfig
	}
	for _, d := range []struct {
		v    string
		t    *time.Time
		add  int
		name string
	}{{*since, &f.Since, 0, "--since"}, {*until, &f.Until, 1, "--until"}} {
		if d.v == "" {
			continue
		}
		day, err := parseDay(d.name, d.v)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd messages:", err)
			return exitBadConfig
		}
		*d.t = day.AddDate(0, 0, d.add)
	}
	r, err := store.OpenReader(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd messages:", err)
		return exitFailure
	}
	defer r.Close()
	list, err := r.Messages(context.Background(), f)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd messages:", err)
		return exitFailure
	}
	if *asJSON {
		if list == nil {
			list = []store.Listed{}
		}
		writeJSON(stdout, list)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tMAILBOX\tOUTCOME\tPROTOCOL / REASONS\tFROM\tSUBJECT")
	for _, m := range list {
		what := m.Protocol
		if what == "" {
			what = strings.Join(m.Reasons, ",")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.ReceivedAt.In(clock.Rome).Format("2006-01-02 15:04"), m.Mailbox,
			m.Outcome, dash(what), m.From, clip(m.Subject, 60))
	}
	tw.Flush()
	return exitOK
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// cmdExport writes a message's original bytes: gatewayd export --config
// FILE PROTOCOL|MESSAGE-ID|ID > message.eml. The bytes are checked against
// their recorded SHA-256 first.
func cmdExport(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("export", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: gatewayd export --config FILE PROTOCOL|MESSAGE-ID|ID > message.eml")
		return exitBadConfig
	}
	r, err := store.OpenReader(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd export:", err)
		return exitFailure
	}
	defer r.Close()
	truncated, err := r.Export(context.Background(), rest[0], stdout)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd export:", err)
		return exitFailure
	}
	if truncated {
		fmt.Fprintln(stderr, "gatewayd export: the message was over the size cap: only its header was kept")
	}
	return exitOK
}

// mailboxArg turns a command's --mailbox (a configured mailbox's name or
// address; "": every mailbox) into the mailbox's name, or says it is none.
func mailboxArg(cfg *config.Config, command, value string, stderr io.Writer) (string, bool) {
	if value == "" {
		return "", true
	}
	m, ok := cfg.FindMailbox(value)
	if !ok {
		fmt.Fprintf(stderr, "gatewayd %s: --mailbox %q is no configured mailbox (its name or its address)\n", command, value)
		return "", false
	}
	return m.Name, true
}
