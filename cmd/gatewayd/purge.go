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
	"gatewayd/internal/daemon"
	"gatewayd/internal/store"
)

const purgeUsage = `usage: gatewayd purge --config FILE [--dry-run]
  removes the bytes of the messages past the rules' retention (conservazione.messaggi_giorni):
  their register lines, decisions and SHA-256 stay. The running daemon does it every night at 02:00;
  without --dry-run this command needs the daemon stopped.
`

// cmdPurge lists (--dry-run) or removes the messages' bytes past the
// retention: gatewayd purge --config FILE [--dry-run].
func cmdPurge(args []string, stdout, stderr io.Writer) int {
	if helpAsked(args) {
		fmt.Fprint(stdout, purgeUsage)
		return exitOK
	}
	cfg, rest := loadConfig("purge", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "list what would go, change nothing")
	if fs.Parse(rest) != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, purgeUsage)
		return exitBadConfig
	}
	r, err := daemon.LoadRules(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	if r == nil || r.RetentionDays == 0 {
		fmt.Fprintln(stdout, "no retention set (conservazione.messaggi_giorni in the rules' ufficio.yaml): every message is kept")
		return exitOK
	}
	now, err := commandClock()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadConfig
	}
	cutoff := daemon.RetentionCutoff(now(), r.RetentionDays)
	ctx := context.Background()
	if *dry {
		rd, err := store.OpenReader(cfg.StateDir)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd purge:", err)
			return exitFailure
		}
		defer rd.Close()
		items, err := rd.Purgeable(ctx, cutoff)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd purge:", err)
			return exitFailure
		}
		var bytes int64
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPROTOCOL\tMAILBOX\tOUTCOME\tSINCE\tBYTES")
		for _, it := range items {
			bytes += it.Size
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", it.ID, dash(it.Protocol), it.Mailbox, it.Outcome,
				it.Since.In(clock.Rome).Format(time.DateOnly), it.Size)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "dry run: %d messages (%d bytes) closed or decided before %s would lose their bytes (retention %d days)\n",
			len(items), bytes, cutoff.In(clock.Rome).Format(time.DateOnly), r.RetentionDays)
		return exitOK
	}
	st, err := store.Open(ctx, store.Options{StateDir: cfg.StateDir, Office: cfg.Office.Code, Format: cfg.Protocol.Parsed, Now: now})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintln(stderr, "gatewayd purge: the daemon is running: it purges every night at 02:00 (use --dry-run to see what will go)")
		return exitFailure
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd purge:", err)
		return exitFailure
	}
	defer st.Close()
	res, err := st.Purge(ctx, cutoff)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd purge:", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "purged %d messages' bytes (%d segments compacted, %d messages moved, %d bytes freed)\n",
		res.Messages, res.Segments, res.Survivors, res.Freed)
	return exitOK
}
