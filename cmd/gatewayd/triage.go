package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// cmdTriage decides on one message file as the daemon would, and prints
// the decision as JSON. It exits 0 whatever the decision; non-zero only
// when it cannot decide.
func cmdTriage(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("rules", "", "the office's rules directory")
	mailbox := fs.String("mailbox", "", "the address the message arrived at")
	at := fs.String("at", "", "receipt time, RFC 3339 (default: the topmost Received header, else Date)")
	trust := fs.String("pec-trust", "", "a PEM file of extra PEC trust anchors")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	if *dir == "" || *mailbox == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: gatewayd triage --rules DIR --mailbox ADDRESS [--at RFC3339] [--pec-trust PEMFILE] FILE.eml")
		return exitBadConfig
	}
	r, err := rules.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	if *at != "" {
		if _, err := time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(stderr, "gatewayd triage: --at %q: write it as RFC 3339, e.g. 2026-11-23T10:00:00+01:00\n", *at)
			return exitBadConfig
		}
	}
	if _, ok := r.Mailbox(*mailbox); !ok {
		fmt.Fprintf(stderr, "gatewayd triage: %s is not a mailbox of %s\n", *mailbox, *dir)
		return exitBadConfig
	}
	checker, err := pecChecker(r, *trust)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd triage:", err)
		return exitBadConfig
	}
	d, err := triageFile(fs.Arg(0), *mailbox, *at, &triage.Rules{Rules: r, PEC: checker})
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd triage:", err)
		return exitFailure
	}
	triage.ReportOf(d).Write(stdout)
	return exitOK
}

// triageFile inspects and classifies one message file.
func triageFile(path, mailbox, at string, cls triage.Classifier) (triage.Decision, error) {
	f, err := os.Open(path)
	if err != nil {
		return triage.Decision{}, err
	}
	defer f.Close()
	facts, problem := mailparse.Inspect(f)
	if problem != nil {
		return triage.Decision{}, fmt.Errorf("cannot decide: the message would be quarantined: %v", problem)
	}
	received := mailparse.ReceivedAt(facts)
	if at != "" {
		if received, err = time.Parse(time.RFC3339, at); err != nil {
			return triage.Decision{}, fmt.Errorf("--at %q: %w", at, err)
		}
	}
	if received.IsZero() {
		return triage.Decision{}, fmt.Errorf("cannot decide: no --at, no readable Received or Date header")
	}
	open := func() (triage.ReadSeekCloser, error) { return os.Open(path) }
	return cls.Classify(triage.Input{Address: mailbox, ReceivedAt: received, Facts: facts, Open: open}), nil
}
