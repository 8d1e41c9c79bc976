package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gatewayd/internal/answer"
	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// errDryRun rolls back a transaction that only showed what it would do.
var errDryRun = errors.New("dry run")

// cmdRedecide decides a refused or quarantined message again with today's
// rules: gatewayd redecide --config FILE ID [--dry-run]. Accepted now, it
// is registered with a new number, dated now, and answered.
func cmdRedecide(args []string, stdout, stderr io.Writer) int {
	return decideCommand("redecide", "usage: gatewayd redecide --config FILE ID|MESSAGE-ID [--dry-run]", args, stdout, stderr)
}

// cmdAccept is the operator's acceptance of a refused or quarantined
// message: gatewayd accept --config FILE ID --reason TEXT [--by NAME].
func cmdAccept(args []string, stdout, stderr io.Writer) int {
	return decideCommand("accept", "usage: gatewayd accept --config FILE ID|MESSAGE-ID --reason TEXT [--by NAME] [--dry-run]", args, stdout, stderr)
}

func decideCommand(name, usage string, args []string, stdout, stderr io.Writer) int {
	if helpAsked(args) {
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	cfg, rest := loadConfig(name, args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "show what would happen, change nothing")
	reason := fs.String("reason", "", "accept: why the operator accepts it (recorded)")
	by := fs.String("by", operator(), "accept: who accepts it (recorded)")
	var key string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		key, rest = rest[0], rest[1:]
	}
	if fs.Parse(rest) != nil || fs.NArg() != 0 || key == "" || name == "accept" && strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, usage)
		return exitBadConfig
	}
	r, t, err := daemon.LoadOffice(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	ct, err := store.OpenCaseTool(cfg.StateDir, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gatewayd %s: %v\n", name, err)
		return exitFailure
	}
	defer ct.Close()
	d := decider{cfg: cfg, rules: r, office: &answer.Office{Rules: r, Templates: t}, tool: ct}
	if name == "accept" {
		d.accept = map[string]any{"by": *by, "reason": *reason, "command": "gatewayd accept"}
	}
	var said string
	err = ct.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		said, err = d.decide(ctx, tx, key)
		if err == nil && *dry {
			return errDryRun
		}
		return err
	})
	switch {
	case errors.Is(err, errDryRun):
		fmt.Fprintln(stdout, "dry run, nothing changed:", said)
	case err != nil:
		fmt.Fprintf(stderr, "gatewayd %s: %v\n", name, err)
		return exitFailure
	default:
		fmt.Fprintln(stdout, said)
	}
	return exitOK
}

// decider decides one stored message again.
type decider struct {
	cfg    *config.Config
	rules  *rules.Rules
	office *answer.Office
	tool   *store.CaseTool
	accept map[string]any // the operator's acceptance (who, why); nil: today's rules decide
}

// decide reads the message's stored bytes, decides them as the daemon
// would now, and records the new decision when it accepts the message,
// with its number, its answer and its case; it says what it did.
func (d decider) decide(ctx context.Context, tx *store.Tx, key string) (string, error) {
	rec, err := tx.Recorded(ctx, key)
	if err != nil {
		return "", err
	}
	if d.cfg, err = inForce(ctx, tx, d.cfg); err != nil {
		return "", err
	}
	box, ok := d.cfg.MailboxNamed(rec.Mailbox)
	if !ok {
		return "", fmt.Errorf("message %d came to mailbox %q, no longer configured", rec.ID, rec.Mailbox)
	}
	now := tx.Now()
	open := func() (triage.ReadSeekCloser, error) { return d.tool.OpenStored(rec.Body) }
	dec, facts, err := decideStored(open, rec.Truncated, d.accept != nil, box, daemon.ClassifierFor(d.rules), now)
	if err != nil {
		return "", err
	}
	if dec.Outcome == triage.Quarantined && d.accept == nil {
		return fmt.Sprintf("message %d stays quarantined (%s): its stored bytes cannot be read as a mail", rec.ID, strings.Join(dec.Reasons, ",")), nil
	}
	why := map[string]any{"command": "gatewayd redecide", "rules_dir": d.cfg.RulesDir}
	if d.accept != nil {
		why = d.accept
		dec.Outcome, dec.Reasons, dec.FollowsUp = triage.Accepted, []string{}, ""
		if d.rules != nil {
			if m, ok := d.rules.Mailbox(box.Address); ok {
				dec.Due = d.rules.Due(m, now).Format(time.DateOnly)
			}
		}
	}
	was := fmt.Sprintf("message %d: %s %s", rec.ID, rec.Outcome, strings.Join(rec.Reasons, ","))
	if dec.Outcome != triage.Accepted || dec.FollowsUp != "" {
		return fmt.Sprintf("%s → today's rules decide %s %s: nothing changed (only an acceptance is recorded)", was, dec.Outcome,
			strings.Join(dec.Reasons, ",")), nil
	}
	it := store.Item{InternalDate: now, Size: rec.Size, Body: rec.Body, Facts: facts, Decision: dec}
	numbering := store.Numbering{Office: d.cfg.Office.Code, Format: d.cfg.Protocol.Parsed, Shadow: d.cfg.Shadow}
	res, err := tx.Decide(ctx, numbering, rec, it, why)
	if err != nil {
		return "", err
	}
	policy := &answer.Policy{Office: func() *answer.Office { return d.office }, Config: d.cfg, Log: slog.New(slog.DiscardHandler)}
	follow := store.Followup{Mails: policy.Answers(box, res, it), Case: deadlines.NewCase(d.rules, box.Address, res, it)}
	if err := tx.Follow(ctx, rec.Mailbox, res, follow); err != nil {
		return "", err
	}
	said := fmt.Sprintf("%s → accepted, protocol %s, due %s", was, res.Protocol, dash(res.Due))
	for _, m := range follow.Mails {
		said += fmt.Sprintf("; %s to %s %s", m.Kind, m.To, m.State)
	}
	return said, nil
}

// inForce is the configuration as the daemon last started with it: its
// mode recorded in the store is the authority (run --shadow is not in the
// file, and a file edited for going live is not in force before the
// restart), so a command beside it numbers and holds mail as it does.
func inForce(ctx context.Context, tx *store.Tx, cfg *config.Config) (*config.Config, error) {
	shadow, known, err := tx.Shadow(ctx)
	if err != nil || !known || shadow == cfg.Shadow {
		return cfg, err
	}
	c := *cfg
	c.Shadow = shadow
	return &c, nil
}
