package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"gatewayd/internal/deadlines"
	"gatewayd/internal/rules"
)

// deadlinesOutput is the JSON contract of gatewayd deadlines.
type deadlinesOutput struct {
	Due   string       `json:"due"`
	Steps []stepOutput `json:"steps"`
}

type stepOutput struct {
	Step string   `json:"step"`
	Date string   `json:"date"`
	To   []string `json:"to"`
	Cc   []string `json:"cc"`
}

// cmdDeadlines prints, offline, the due date and every step of a
// mailbox's reply ladder for a mail received at --at: operators check a
// ladder before going live. It exits non-zero only when it cannot compute.
func cmdDeadlines(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deadlines", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("rules", "", "the office's rules directory")
	mailbox := fs.String("mailbox", "", "the address the mail arrives at")
	at := fs.String("at", "", "when the mail arrives, RFC 3339")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	if *dir == "" || *mailbox == "" || *at == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: gatewayd deadlines --rules DIR --mailbox ADDRESS --at RFC3339")
		return exitBadConfig
	}
	t, err := time.Parse(time.RFC3339, *at)
	if err != nil {
		fmt.Fprintf(stderr, "gatewayd deadlines: --at %q: write it as RFC 3339, e.g. 2026-11-23T10:00:00+01:00\n", *at)
		return exitBadConfig
	}
	r, err := rules.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	m, ok := r.Mailbox(*mailbox)
	if !ok {
		fmt.Fprintf(stderr, "gatewayd deadlines: %s is not a mailbox of %s\n", *mailbox, *dir)
		return exitBadConfig
	}
	plan := deadlines.ReplyPlan(r, m, t, "")
	out := deadlinesOutput{Due: plan.Due.Format(time.DateOnly), Steps: []stepOutput{}}
	for _, s := range plan.Steps {
		out.Steps = append(out.Steps, stepOutput{Step: s.Level.Name, Date: s.Date.Format(time.DateOnly),
			To: nonNil(s.To), Cc: nonNil(s.Cc)})
	}
	writeJSON(stdout, out)
	return exitOK
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
