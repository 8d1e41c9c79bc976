package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"

	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/triage"
)

// triageOutput is the JSON contract of gatewayd triage.
type triageOutput struct {
	Decision      string          `json:"decision"` // accept, reject, ignore
	Reasons       []string        `json:"reasons"`
	CodiceFiscale string          `json:"codice_fiscale"`
	InvalidValue  string          `json:"invalid_value,omitempty"`
	Gestione      string          `json:"gestione"`
	Summary       string          `json:"summary"`
	PEC           *triage.PECInfo `json:"pec"`
	Due           string          `json:"due,omitempty"`
	RightMailbox  string          `json:"right_mailbox,omitempty"`
	Service       string          `json:"service,omitempty"`
	// Sender is who the answer goes to; SenderAuth how it was authenticated.
	Sender     string `json:"sender,omitempty"`
	SenderAuth string `json:"sender_auth,omitempty"`
}

var decisions = map[triage.Outcome]string{triage.Accepted: "accept", triage.Refused: "reject", triage.Ignored: "ignore"}

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
	out := triageOutput{Decision: decisions[d.Outcome], Reasons: d.Reasons, CodiceFiscale: d.CodiceFiscale,
		InvalidValue: d.InvalidValue, Gestione: d.Gestione, Summary: d.Summary, PEC: d.PEC, Due: d.Due,
		RightMailbox: d.RightMailbox, Service: d.Service, Sender: d.Sender, SenderAuth: d.SenderAuth}
	if out.PEC == nil {
		out.PEC = &triage.PECInfo{Kind: "none", Signature: "missing"}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
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
	received := receivedAt(facts)
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

// receivedAt is when the mail reached the mailbox, as the daemon takes it
// from INTERNALDATE: the date of the topmost Received header field (the
// office's own server stamps it), else the Date header.
func receivedAt(f mailparse.Facts) time.Time {
	if v := f.Header.Get("Received"); v != "" {
		if i := strings.LastIndexByte(v, ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
				return t
			}
		}
	}
	return mailparse.DateOf(f)
}
