package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
)

// caseRow is one case of cases list --json.
type caseRow struct {
	Protocol    string `json:"protocol"`
	Mailbox     string `json:"mailbox"`
	Sender      string `json:"sender"`
	Received    string `json:"received"`
	Due         string `json:"due"`
	State       string `json:"state"`
	Outcome     string `json:"outcome,omitempty"`
	Ladder      string `json:"ladder"`
	Level       string `json:"level,omitempty"`
	NextStep    string `json:"next_step,omitempty"`
	Appointment bool   `json:"appointment"`
}

// cmdCases lists cases: gatewayd cases --config FILE list [--mailbox A]
// [--state open|overdue|waiting|closed] [--json].
func cmdCases(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("cases", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	fs := flag.NewFlagSet("cases list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mailbox := fs.String("mailbox", "", "only this mailbox (its name in the configuration, or its address)")
	state := fs.String("state", "", "open, overdue, waiting or closed")
	asJSON := fs.Bool("json", false, "one JSON array")
	usage := "usage: gatewayd cases --config FILE list [--mailbox NAME] [--state open|overdue|waiting|closed] [--json]"
	if len(rest) == 0 || rest[0] != "list" || fs.Parse(rest[1:]) != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	switch *state {
	case "", store.CaseOpen, store.CaseOverdue, store.CaseWaiting, store.CaseClosed:
	default: // answered, withdrawn… are how a closed case ended: its outcome
		fmt.Fprintf(stderr, "gatewayd cases: --state %q: a case is open, overdue, waiting or closed (answered is the outcome of a closed one)\n%s\n", *state, usage)
		return exitBadConfig
	}
	var ok bool
	if *mailbox, ok = mailboxArg(cfg, "cases", *mailbox, stderr); !ok {
		return exitBadConfig
	}
	r, _ := daemon.LoadRules(cfg)
	ct, err := store.OpenCaseTool(cfg.StateDir, nil)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd cases:", err)
		return exitFailure
	}
	defer ct.Close()
	cases, err := ct.Cases(context.Background(), *mailbox, *state, 1000)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd cases:", err)
		return exitFailure
	}
	rows := make([]caseRow, 0, len(cases))
	for _, c := range cases {
		rows = append(rows, rowOf(r, c))
	}
	if *asJSON {
		writeJSON(stdout, rows)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTOCOL\tMAILBOX\tRECEIVED\tDUE\tSTATE\tLEVEL\tNEXT STEP\tSENDER")
	for _, c := range rows {
		state := stateText(c.State, c.Outcome)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Protocol, c.Mailbox, c.Received, c.Due, state, dash(c.Level), dash(c.NextStep), c.Sender)
	}
	tw.Flush()
	return exitOK
}

func rowOf(r *rules.Rules, c store.Case) caseRow {
	row := caseRow{Protocol: c.Protocol, Mailbox: c.Mailbox, Sender: c.Sender, Received: c.ReceivedDay.Format(time.DateOnly),
		Due: c.Due.Format(time.DateOnly), State: c.State, Outcome: c.Outcome, Ladder: store.LadderKind(c.Ladder), Level: c.Level,
		Appointment: deadlines.Appointment(r, c, time.Now())}
	if !c.NextStepAt.IsZero() {
		row.NextStep = c.NextStepAt.In(clock.Rome).Format("2006-01-02 15:04")
	}
	return row
}

// stateText is a case's state with its outcome when that says more.
func stateText(state, outcome string) string {
	if outcome != "" && outcome != state {
		return state + " (" + outcome + ")"
	}
	return state
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cmdCase shows or changes one case: gatewayd case --config FILE
// show|close|wait|forward PROTOCOL [--outcome O].
func cmdCase(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("case", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	usage := "usage: gatewayd case --config FILE show PROTOCOL | close PROTOCOL --outcome answered|unsatisfactory|withdrawn | wait PROTOCOL | forward PROTOCOL"
	if len(rest) < 2 {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	verb, protocol := rest[0], rest[1]
	switch verb {
	case "show", "close", "wait", "forward":
	default:
		fmt.Fprintf(stderr, "gatewayd case: unknown verb %q\n%s\n", verb, usage)
		return exitBadConfig
	}
	fs := flag.NewFlagSet("case", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outcome := fs.String("outcome", "", "answered, unsatisfactory or withdrawn")
	if fs.Parse(rest[2:]) != nil || fs.NArg() != 0 || verb == "close" && !deadlines.Outcomes[*outcome] || verb != "close" && *outcome != "" {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	r, err := daemon.LoadRules(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	ct, err := store.OpenCaseTool(cfg.StateDir, nil)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd case:", err)
		return exitFailure
	}
	defer ct.Close()
	if verb == "show" {
		return showCase(cfg, r, ct, protocol, stdout, stderr)
	}
	why := map[string]any{"by": "operator", "command": "gatewayd case " + verb}
	err = ct.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.CaseByProtocol(ctx, protocol)
		if err != nil {
			return err
		}
		switch verb {
		case "close":
			switch {
			case c.State == store.CaseAnswered: // the reply came; the operator judges it (D5: unsatisfactory)
				return tx.Close(ctx, c, store.CaseClosed, *outcome, c.RepliedAt, why)
			case !c.Open():
				return fmt.Errorf("case %s is already %s", protocol, c.State)
			}
			return tx.Close(ctx, c, store.CaseClosed, *outcome, tx.Now(), why)
		case "wait", "forward":
			if r == nil {
				return errors.New("the configuration has no rules_dir: there are no ladders")
			}
			if verb == "wait" {
				return deadlines.Wait(ctx, tx, r, c, tx.Now(), why)
			}
			return deadlines.Forward(ctx, tx, r, c, tx.Now(), why)
		}
		return fmt.Errorf("unknown action %q", verb)
	})
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd case:", err)
		if errors.Is(err, store.ErrNotFound) {
			return exitFailure
		}
		return exitFailure
	}
	fmt.Fprintf(stdout, "case %s: %s done\n", protocol, verb)
	return exitOK
}

// showCase prints a case: its state, the appointment eligibility, the
// levels taken, and the whole timeline of its message.
func showCase(cfg *config.Config, r *rules.Rules, ct *store.CaseTool, protocol string, stdout, stderr io.Writer) int {
	c, steps, err := ct.Case(context.Background(), protocol)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd case:", err)
		return exitFailure
	}
	row := rowOf(r, c)
	sender := c.Sender
	if n, err := ct.SenderDelays(context.Background(), c.Sender); err == nil && n > 0 {
		sender += fmt.Sprintf(" (%d late replies to the office's requests", n)
		if r != nil && r.Deadlines != nil && r.Deadlines.RepeatedDelays > 0 && n >= r.Deadlines.RepeatedDelays {
			sender += ": FLAGGED for repeated delays, the guaranteed times no longer apply"
		}
		sender += ")"
	}
	fmt.Fprintf(stdout, "case:        %s\nmailbox:     %s (%s)\nsender:      %s\nreceived:    %s\ndue:         %s\nstate:       %s\n"+
		"ladder:      %s, level %s, next step %s\nappointment: %s\n\n", c.Protocol, c.Mailbox, c.Address, sender, row.Received, row.Due,
		stateText(c.State, c.Outcome), row.Ladder, dash(c.Level), dash(row.NextStep), appointment(row.Appointment, c))
	for _, s := range steps {
		kind := "sent"
		if s.Skipped {
			kind = "skipped (its day passed while the daemon was down or the case waited)"
		}
		fmt.Fprintf(stdout, "step: %-10s %-26s due %s, %s %s\n", store.LadderKind(s.Ladder), s.Level, s.DueDay.Format(time.DateOnly), kind,
			s.TakenAt.In(clock.Rome).Format("2006-01-02 15:04"))
	}
	if len(steps) > 0 {
		fmt.Fprintln(stdout)
	}
	return showMessage(cfg.StateDir, protocol, stdout, stderr)
}

func appointment(ok bool, c store.Case) string {
	switch {
	case ok && c.Outcome == store.OutcomeUnsatisfactory:
		return "eligible (closed as unsatisfactory)"
	case ok:
		return "eligible (open longer than the rules' days)"
	}
	return "not eligible"
}
