package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/report"
	"gatewayd/internal/store"
)

// writeReport writes the compliance report of the demo's days, from the day
// the mails came to the simulated clock's, as the HTML page operators
// print (gatewayd report … --format html), into the state directory.
func (x *deadlineDemo) writeReport(ctx context.Context) error {
	o := report.Configured(x.cfg, x.d.Office().Rules)
	o.From, o.To, o.Generated = clock.Day(time.Now()), clock.Day(x.clk.Now()), x.clk.Now()
	rt, err := store.OpenReportTool(x.dir)
	if err != nil {
		return err
	}
	defer rt.Close()
	c, err := report.Build(ctx, rt, o)
	if err != nil {
		return fmt.Errorf("building the compliance report: %w", err)
	}
	path := filepath.Join(x.dir, "compliance-report.html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing the compliance report: %w", err)
	}
	if err := report.HTML(f, c); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the compliance report: %w", err)
	}
	t := c.Total()
	fmt.Fprintf(x.w, "\nThe compliance report of these days (%d received, %d protocolled, %d refused; %d solleciti, %d escalations sent),\n"+
		"one HTML page to print on A4 (gatewayd report --config %s --from %s --to %s --format html -o FILE):\n  %s\n",
		t.Received, t.Protocolled, t.Refused, t.Solleciti, t.Escalations, filepath.Join(x.dir, "gatewayd.yaml"),
		c.From.Format(time.DateOnly), c.To.Format(time.DateOnly), path)
	if !x.kept {
		fmt.Fprintln(x.w, "  (removed at exit with the demo's state: run `gatewayd demo -state DIR` to keep it and try the commands above)")
	}
	return nil
}
