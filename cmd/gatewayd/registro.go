package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/register"
	"gatewayd/internal/store"
)

const registroUsage = `usage: gatewayd registro --config FILE <verb>
  verify [--from YYYY-MM-DD]   recompute the daily registers' hash chain and every fingerprint;
                               exit 1 naming the first broken day
  show YYYY-MM-DD [--csv]      print a day's register (--csv: the file as handed over)
  list                         the days produced and their handover
`

// cmdRegistro reads the daily protocol registers: gatewayd registro
// --config FILE verify|show|list.
func cmdRegistro(args []string, stdout, stderr io.Writer) int {
	if helpAsked(args) {
		fmt.Fprint(stdout, registroUsage)
		return exitOK
	}
	cfg, rest := loadConfig("registro", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, registroUsage)
		return exitBadConfig
	}
	verb, rest := rest[0], rest[1:]
	fs := flag.NewFlagSet("registro "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "verify: first day, YYYY-MM-DD")
	raw := fs.Bool("csv", false, "show: print the CSV file")
	var day string
	if verb == "show" && len(rest) > 0 {
		day, rest = rest[0], rest[1:]
	}
	if fs.Parse(rest) != nil || fs.NArg() != 0 || verb == "show" && day == "" {
		fmt.Fprint(stderr, registroUsage)
		return exitBadConfig
	}
	rd, err := store.OpenReader(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd registro:", err)
		return exitFailure
	}
	defer rd.Close()
	ctx := context.Background()
	switch verb {
	case "verify":
		var since time.Time
		if *from != "" {
			if since, err = parseDay("--from", *from); err != nil {
				fmt.Fprintln(stderr, "gatewayd registro:", err)
				return exitBadConfig
			}
		}
		v, err := register.Verify(ctx, rd, cfg.StateDir, since)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd registro verify:", err)
			return exitFailure
		}
		if v.Days == 0 {
			fmt.Fprintln(stdout, "registro verify: no daily register produced yet")
			return exitOK
		}
		checked := fmt.Sprintf("%d fingerprints match", v.Fingerprints)
		if v.Fingerprints == 0 && v.Purged == 0 {
			checked = "no registration in these days"
		}
		fmt.Fprintf(stdout, "registro verify: %d days from %s to %s, chain intact, %s\n",
			v.Days, v.From.Format(time.DateOnly), v.To.Format(time.DateOnly), checked)
		if v.Purged > 0 {
			fmt.Fprintf(stdout, "  (%d registered messages' bytes were removed by the retention: their fingerprints stay in the register)\n", v.Purged)
		}
		if yesterday := clock.Day(time.Now()).AddDate(0, 0, -1); v.To.Before(yesterday) {
			fmt.Fprintf(stdout, "  warning: no daily register after %s: they are produced by the running daemon after each midnight\n",
				v.To.Format(time.DateOnly))
		}
		return exitOK
	case "show":
		d, err := parseDay("the day", day)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd registro:", err)
			return exitBadConfig
		}
		return showRegisterDay(ctx, rd, cfg.StateDir, d, *raw, stdout, stderr)
	case "list":
		days, err := rd.RegisterDays(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd registro:", err)
			return exitFailure
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tCOUNT\tFIRST\tLAST\tHANDOVER")
		kept := cfg.Register.HandoverDir == "" && len(cfg.Register.HandoverCommand) == 0
		for _, d := range days {
			h := handover(d)
			if kept && !d.HandedAt.IsZero() {
				h = "kept in state_dir (no handover configured)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", d.Day.Format(time.DateOnly), d.Count, dash(d.First), dash(d.Last), h)
		}
		tw.Flush()
		return exitOK
	}
	fmt.Fprint(stderr, registroUsage)
	return exitBadConfig
}

func firstDay(days []store.RegisterDay) string {
	if len(days) == 0 {
		return ""
	}
	return ", on " + days[0].Day.Format(time.DateOnly)
}

func handover(d store.RegisterDay) string {
	switch {
	case !d.HandedAt.IsZero():
		return "done " + d.HandedAt.In(clock.Rome).Format("2006-01-02 15:04")
	case d.Attempts > 0:
		return fmt.Sprintf("FAILED %d times, next %s: %s", d.Attempts, d.NextAttempt.In(clock.Rome).Format("2006-01-02 15:04"), d.LastError)
	}
	return "pending"
}

// showRegisterDay prints a produced day from its files; a day not yet
// over is printed from the store, saying so.
func showRegisterDay(ctx context.Context, rd *store.Reader, stateDir string, day time.Time, raw bool, stdout, stderr io.Writer) int {
	csvPath, jsonPath := register.Paths(stateDir, day)
	b, err := os.ReadFile(csvPath)
	if errors.Is(err, os.ErrNotExist) {
		if days, err := rd.RegisterDays(ctx); err == nil && day.Before(clock.Day(time.Now())) &&
			(len(days) == 0 || day.Before(days[0].Day)) {
			fmt.Fprintf(stdout, "daily register %s: none — the register starts with the first live registration%s\n",
				day.Format(time.DateOnly), firstDay(days))
			return exitOK
		}
		e, err := rd.RegisterEntries(ctx, day)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd registro:", err)
			return exitFailure
		}
		b = register.CSV(e)
		if !raw {
			fmt.Fprintf(stdout, "daily register %s: not produced yet (it is produced once the day is over); the store holds:\n\n", day.Format(time.DateOnly))
		}
	} else if err != nil {
		fmt.Fprintln(stderr, "gatewayd registro:", err)
		return exitFailure
	} else if !raw {
		fmt.Fprintf(stdout, "daily register %s\nfiles: %s\n       %s\n\n", day.Format(time.DateOnly), csvPath, jsonPath)
	}
	if raw {
		stdout.Write(b)
		return exitOK
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd registro:", csvPath, err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tPROTOCOL\tAT\tSENDER / FIELD\tSUBJECT / VALUE / REASON")
	for _, r := range rows[1:] {
		switch r[0] {
		case "registration":
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[4], clip(r[5], 60))
		case "annulment":
			fmt.Fprintf(tw, "%s\t%s\t%s\tby %s\t%s (%s)\n", r[0], r[1], r[2], r[12], clip(r[13], 50), r[14])
		case "amendment":
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s by %s\t%q → %q\n", r[0], r[1], r[2], r[9], r[12], clip(r[10], 30), clip(r[11], 30))
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d entries\n", len(rows)-1)
	return exitOK
}
