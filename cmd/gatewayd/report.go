package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/daemon"
	"gatewayd/internal/report"
	"gatewayd/internal/store"
)

const reportUsage = `usage: gatewayd report --config FILE --from YYYY-MM-DD --to YYYY-MM-DD [--mailbox NAME|ADDRESS]
       [--by week|month] [--format text|csv|html] [-o FILE]

The compliance report (REQUIREMENTS P4): per mailbox and week or month, what
was received, protocolled, refused (by reason), ignored and quarantined; the
cases answered in time and late, open and overdue at each period's end; the
solleciti and escalations sent; the median and 90th percentile reply time in
working days; the senders flagged for delays; the annulments. Days are
Europe/Rome days, --from and --to included. --by defaults to month when the
span covers more than 62 days, else week. -o writes the file with mode 0600
(it holds personal data); stdout otherwise.
`

// reportFlags are the report command's own flags.
type reportFlags struct {
	from, to, mailbox, by, format, out string
}

// cmdReport writes the compliance report: gatewayd report --config FILE
// --from DAY --to DAY [--mailbox A] [--by week|month] [--format F] [-o FILE].
func cmdReport(args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(stdout, reportUsage)
			return exitOK
		}
	}
	cfg, rest := loadConfig("report", args, stderr)
	if cfg == nil {
		return exitBadConfig
	}
	var f reportFlags
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.from, "from", "", "first day, YYYY-MM-DD")
	fs.StringVar(&f.to, "to", "", "last day, YYYY-MM-DD")
	fs.StringVar(&f.mailbox, "mailbox", "", "one mailbox: its name in the configuration, or its address")
	fs.StringVar(&f.by, "by", "", "week or month")
	fs.StringVar(&f.format, "format", "text", "text, csv or html")
	fs.StringVar(&f.out, "o", "", "write to this file (mode 0600)")
	if err := fs.Parse(rest); err != nil || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "gatewayd report: %v\n%s", usageErr(err, fs.Args()), reportUsage)
		return exitBadConfig
	}
	o, err := reportOptions(cfg, f)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd report:", err)
		return exitBadConfig
	}
	return writeReport(cfg, o, f, stdout, stderr)
}

func usageErr(err error, extra []string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("unexpected arguments %q", extra)
}

// reportOptions checks the flags against the configuration and its rules.
func reportOptions(cfg *config.Config, f reportFlags) (report.Options, error) {
	r, err := daemon.LoadRules(cfg)
	if err != nil {
		return report.Options{}, err
	}
	o := report.Configured(cfg, r)
	o.By, o.Generated = f.by, time.Now()
	if o.From, err = parseDay("--from", f.from); err != nil {
		return o, err
	}
	if o.To, err = parseDay("--to", f.to); err != nil {
		return o, err
	}
	if o.To.Before(o.From) {
		return o, fmt.Errorf("--to %s is before --from %s", f.to, f.from)
	}
	if f.by != "" && f.by != report.ByWeek && f.by != report.ByMonth {
		return o, fmt.Errorf("--by %q: week or month", f.by)
	}
	if f.format != "text" && f.format != "csv" && f.format != "html" {
		return o, fmt.Errorf("--format %q: text, csv or html", f.format)
	}
	for _, m := range o.Mailboxes {
		if f.mailbox != "" && (f.mailbox == m.Name || strings.EqualFold(f.mailbox, m.Address)) {
			o.Only = m.Name
		}
	}
	if f.mailbox != "" && o.Only == "" {
		return o, fmt.Errorf("--mailbox %s: no such mailbox in %s", f.mailbox, cfg.File)
	}
	return o, nil
}

// writeReport builds the report from the store and renders it.
func writeReport(cfg *config.Config, o report.Options, f reportFlags, stdout, stderr io.Writer) int {
	rt, err := store.OpenReportTool(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd report:", err)
		return exitFailure
	}
	defer rt.Close()
	c, err := report.Build(context.Background(), rt, o)
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd report:", err)
		return exitFailure
	}
	w, done := stdout, func() error { return nil }
	if f.out != "" {
		file, err := createPrivate(f.out)
		if err != nil {
			fmt.Fprintln(stderr, "gatewayd report:", err)
			return exitFailure
		}
		w, done = file, file.Close
	}
	render := map[string]func(io.Writer, *report.Compliance) error{"text": report.Text, "csv": report.CSV, "html": report.HTML}[f.format]
	err = render(w, c)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatewayd report:", err)
		return exitFailure
	}
	return exitOK
}

// createPrivate creates (or truncates) a file readable by its owner only,
// whatever mode an existing file had.
func createPrivate(path string) (*os.File, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the report: %w", err)
	}
	if err := file.Chmod(0o600); err != nil {
		file.Close()
		return nil, fmt.Errorf("creating the report: %w", err)
	}
	return file, nil
}
