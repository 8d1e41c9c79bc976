package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// replayed is one message whose decision another rules directory changes.
type replayed struct {
	ID       int64    `json:"id"`
	Protocol string   `json:"protocol,omitempty"`
	Mailbox  string   `json:"mailbox"`
	Was      string   `json:"was"`
	WasWhy   []string `json:"was_reasons"`
	Now      string   `json:"now"`
	NowWhy   []string `json:"now_reasons"`
	Subject  string   `json:"subject"`
}

// cmdReplay shows, changing nothing, how every message since a day would
// be decided by another rules directory: gatewayd replay --config FILE
// --rules DIR --since YYYY-MM-DD [--json]. Operators read it before they
// deploy new rules.
func cmdReplay(args []string, stdout, stderr io.Writer) int {
	cfg, rest := loadConfig("replay", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("rules", "", "the rules directory to try")
	since := fs.String("since", "", "first day, YYYY-MM-DD")
	asJSON := fs.Bool("json", false, "the changes as one JSON array")
	if fs.Parse(rest) != nil || fs.NArg() != 0 || *dir == "" || *since == "" {
		fmt.Fprintln(stderr, "usage: gatewayd replay --config FILE --rules DIR --since YYYY-MM-DD [--json]")
		return exitBadConfig
	}
	day, err := parseDay("--since", *since)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd replay:", err)
		return exitBadConfig
	}
	r, err := rules.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	rd, err := store.OpenReader(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd replay:", err)
		return exitFailure
	}
	defer rd.Close()
	changes, total, purged, err := replay(context.Background(), rd, cfg, r, day)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd replay:", err)
		return exitFailure
	}
	if *asJSON {
		writeJSON(stdout, changes)
		return exitOK
	}
	printReplay(stdout, changes, total, *dir, *since)
	if purged > 0 {
		fmt.Fprintf(stdout, "(%d of them not decided again: the retention removed their bytes)\n", purged)
	}
	return exitOK
}

// replay decides again, in memory, every message received since day
// whose bytes are kept; it returns the changes, how many messages it
// read, and how many of them the retention had purged.
func replay(ctx context.Context, rd *store.Reader, cfg *config.Config, r *rules.Rules, day time.Time) ([]replayed, int, int, error) {
	list, err := rd.Messages(ctx, store.Filter{Since: day, Limit: 1 << 30})
	if err != nil {
		return nil, 0, 0, err
	}
	purged := 0
	cls := daemon.ClassifierFor(r)
	changes := []replayed{}
	for _, m := range list {
		box, _ := cfg.MailboxNamed(m.Mailbox)
		f, _, truncated, err := rd.Stored(ctx, m.ID)
		if errors.Is(err, store.ErrPurged) {
			purged++
			continue
		}
		if err != nil {
			return nil, 0, 0, err
		}
		f.Close()
		open := func() (triage.ReadSeekCloser, error) {
			r, _, _, err := rd.Stored(ctx, m.ID)
			return r, err
		}
		d, _, err := decideStored(open, truncated, false, box, cls, m.ReceivedAt)
		if err != nil {
			return nil, 0, 0, err
		}
		now, why := string(d.Outcome), d.Reasons
		if now != m.Outcome || strings.Join(why, ",") != strings.Join(m.Reasons, ",") {
			changes = append(changes, replayed{ID: m.ID, Protocol: m.Protocol, Mailbox: m.Mailbox, Was: m.Outcome, WasWhy: m.Reasons,
				Now: now, NowWhy: why, Subject: m.Subject})
		}
	}
	return changes, len(list), purged, nil
}

// decideStored decides a stored message as the daemon would for box at
// a time: quarantined when its bytes were cut at the size cap or cannot be
// read as a mail, unless force (an operator's acceptance) classifies
// what can be read all the same. open reopens the bytes.
func decideStored(open func() (triage.ReadSeekCloser, error), truncated, force bool, box config.Mailbox, cls triage.Classifier,
	at time.Time) (triage.Decision, mailparse.Facts, error) {
	f, err := open()
	if err != nil {
		return triage.Decision{}, mailparse.Facts{}, err
	}
	facts, problem := mailparse.Inspect(f)
	f.Close()
	switch {
	case truncated && !force:
		return triage.Decision{Outcome: triage.Quarantined, Reasons: []string{mailparse.ReasonOverSizeCap}}, facts, nil
	case problem != nil && !force:
		return triage.Decision{Outcome: triage.Quarantined, Reasons: []string{problem.Reason}}, facts, nil
	}
	d := cls.Classify(triage.Input{Mailbox: box.Name, Address: box.Address, ReceivedAt: at, Facts: facts, Open: open})
	return d, facts, nil
}

func printReplay(w io.Writer, changes []replayed, total int, dir, since string) {
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Was+" → "+c.Now]++
	}
	fmt.Fprintf(w, "%d messages since %s decided again with %s: %d unchanged, %d changed\n", total, since, dir, total-len(changes), len(changes))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-26s %d\n", k, counts[k])
	}
	if len(changes) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPROTOCOL\tMAILBOX\tWAS\tNOW\tSUBJECT")
	for _, c := range changes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s %s\t%s\n", c.ID, dash(c.Protocol), c.Mailbox, c.Was, strings.Join(c.WasWhy, ","),
			c.Now, strings.Join(c.NowWhy, ","), clip(c.Subject, 50))
	}
	tw.Flush()
}
