package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"gatewayd/internal/register"
	"gatewayd/internal/store"
)

// registers produces the daily protocol registers of the days the
// simulated clock went through, prints the first and verifies the chain,
// as gatewayd registro show and verify do.
func (x *deadlineDemo) registers(ctx context.Context) error {
	p := x.d.Register()
	days, err := p.Produce(ctx)
	if err != nil {
		return err
	}
	p.HandOver(ctx)
	if len(days) == 0 {
		return fmt.Errorf("no daily register was produced")
	}
	conf := x.dir + "/gatewayd.yaml"
	first := days[0]
	csvPath, jsonPath := register.Paths(x.dir, first)
	b, err := os.ReadFile(csvPath)
	if err != nil {
		return err
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return err
	}
	fmt.Fprintf(x.w, "\nThe protocol register: one file per day, produced once the day is over (%d days, %s to %s).\n",
		len(days), first.Format(time.DateOnly), days[len(days)-1].Format(time.DateOnly))
	fmt.Fprintf(x.w, "Registro giornaliero of %s (gatewayd registro --config %s show %s):\n  %s\n  %s (metadata, SHA-256 chain)\n\n",
		first.Format(time.DateOnly), conf, first.Format(time.DateOnly), csvPath, jsonPath)
	tw := tabwriter.NewWriter(x.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NUMBER\tREGISTERED\tSENDER\tSUBJECT")
	for _, r := range rows[1:] {
		if r[0] == "registration" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r[1], r[2][11:16], r[4], shorten(r[5], 48))
		}
	}
	tw.Flush()
	rd, err := store.OpenReader(x.dir)
	if err != nil {
		return err
	}
	defer rd.Close()
	v, err := register.Verify(ctx, rd, x.dir, time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(x.w, "\ngatewayd registro --config %s verify\n  registro verify: %d days from %s to %s, chain intact, %d fingerprints match\n",
		conf, v.Days, v.From.Format(time.DateOnly), v.To.Format(time.DateOnly), v.Fingerprints)
	return nil
}
