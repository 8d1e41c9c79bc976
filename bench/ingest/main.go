// Command ingest measures gatewayd's intake against a raw IMAP fetch and
// against fetch + move, the least the gateway must ask of the server.
//
//	go run ./bench/ingest -n 2000          # -runs 3: three rounds, medians last
//
// It starts its own Dovecot, appends N messages (a realistic mix: 80 % text
// of 2–50 KB, 18 % with 100 KB–1 MB attachments, 2 % with 5–10 MB, plus one
// of -big MB) to a folder of their own, then measures, each on its own
// copy of that folder: (a) a minimal go-imap client that only UID FETCHes
// every body, (b) the same client fetching every body and UID MOVEing each
// batch (gatewayd's batch size) to another folder, and (c) the built
// gatewayd binary ingesting the folder end to end (fetch, spool, store,
// protocol, move), and its peak RSS. Beside each rate it prints the CPU
// the client (or gatewayd) and Dovecot's imap processes used, how long
// they waited for a core, and how busy the machine was: on two shared
// cores that decides more than anything else. The last line is:
//
//	gateway_msgs_per_s=… raw_fetch_msgs_per_s=… ratio=… peak_rss_mb=… fetch_move_msgs_per_s=… ratio_to_limit=…
//
// ratio is gatewayd's rate over the raw fetch's, ratio_to_limit over
// fetch + move's. With -runs above 1 it holds the medians (the peak RSS:
// the largest). BENCH_CPUPROFILE=FILE writes gatewayd's CPU profile,
// BENCH_TRACE=FILE its execution trace (where the pipeline waits: go tool
// trace -pprof=sync FILE); run N > 1 gets FILE.N.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/testenv/dovecot"
)

func main() {
	n := flag.Int("n", 2000, "messages in the mix")
	big := flag.Int("big", 50, "size in MB of one extra large message (0: none)")
	runs := flag.Int("runs", 1, "rounds of the three measurements on the same mix")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.IntVar(&batchSize, "batch", 250, "gatewayd's batch_size, and fetch + move's")
	flag.Parse()
	h := harness.New("gatewayd-bench-", *keep)
	defer h.Close()
	if err := run(h, *n, *big, max(*runs, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		os.Exit(1)
	}
}

var (
	batchSize int
	master    int // the test Dovecot's pid
)

// figures are one round's measurements, in messages per second, and
// what each cost in CPU.
type figures struct {
	raw, fetchMove       float64
	gw                   gatewayRun
	rawCPU, fetchMoveCPU cpuUse
}

func (f figures) ratio() float64        { return f.gw.rate / f.raw }
func (f figures) ratioToLimit() float64 { return f.gw.rate / f.fetchMove }

func run(h *harness.H, n, bigMB, runs int) error {
	srv := dovecot.Start(h, map[string]string{"bench": "bench"})
	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login("bench", "bench").Wait(); err != nil {
		return err
	}
	if master, err = dovecotPid(srv.Root); err != nil {
		return err
	}
	total, bytes, err := load(c, n, bigMB)
	if err != nil {
		return err
	}
	fmt.Printf("loaded %d messages, %.0f MB\n", total, float64(bytes)/1e6)
	// The maildir just written would otherwise go to disk during the
	// first measurements.
	syscall.Sync()
	bin := filepath.Join(h.Dir, "gatewayd")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gatewayd").CombinedOutput(); err != nil {
		return fmt.Errorf("building gatewayd: %v\n%s", err, out)
	}
	var all []figures
	for r := 1; r <= runs; r++ {
		f, err := round(h, c, bin, srv.Addr(), total, r)
		if err != nil {
			return err
		}
		fmt.Printf("run %d: raw fetch %.0f msgs/s, fetch+move %.0f msgs/s, gatewayd %.0f msgs/s from its logged-in connection "+
			"(%.0f from process start), peak RSS %.0f MB; ratio %.2f, to the limit %.2f\n",
			r, f.raw, f.fetchMove, f.gw.rate, f.gw.whole, f.gw.rssMB, f.ratio(), f.ratioToLimit())
		fmt.Printf("  raw fetch  %v\n  fetch+move %v\n  gatewayd   %v\n", f.rawCPU, f.fetchMoveCPU, f.gw.cpu)
		all = append(all, f)
	}
	if runs > 1 {
		fmt.Printf("medians of %d runs (peak RSS: the largest):\n", runs)
	}
	rss := 0.0
	for _, f := range all {
		rss = max(rss, f.gw.rssMB)
	}
	fmt.Printf("gateway_msgs_per_s=%.0f raw_fetch_msgs_per_s=%.0f ratio=%.2f peak_rss_mb=%.0f fetch_move_msgs_per_s=%.0f ratio_to_limit=%.2f\n",
		median(all, func(f figures) float64 { return f.gw.rate }), median(all, func(f figures) float64 { return f.raw }),
		median(all, figures.ratio), rss,
		median(all, func(f figures) float64 { return f.fetchMove }), median(all, figures.ratioToLimit))
	return nil
}

// round measures the raw fetch, fetch + move and gatewayd, each on its own
// fresh copy of the mix.
func round(h *harness.H, c *imapclient.Client, bin, addr string, total, r int) (figures, error) {
	var f figures
	uids, err := copyMix(c, "raw", total)
	if err != nil {
		return f, err
	}
	before := sampleCPU(master)
	if f.raw, err = rawFetch(c, "raw", uids); err != nil {
		return f, err
	}
	f.rawCPU = before.to(sampleCPU(master))
	dropFolders(c, "raw")
	if uids, err = copyMix(c, "fetchmove", total); err != nil {
		return f, err
	}
	if err := c.Create("fetchmove-done", nil).Wait(); err != nil {
		return f, fmt.Errorf("creating fetchmove-done: %w", err)
	}
	before = sampleCPU(master)
	if f.fetchMove, err = fetchMove(c, "fetchmove", "fetchmove-done", uids, batchSize); err != nil {
		return f, err
	}
	f.fetchMoveCPU = before.to(sampleCPU(master))
	dropFolders(c, "fetchmove", "fetchmove-done")
	if _, err := copyMix(c, "INBOX", total); err != nil {
		return f, err
	}
	if f.gw, err = gateway(h, bin, addr, total, r); err != nil {
		return f, err
	}
	dropFolders(c, outcomeFolders...)
	return f, nil
}

// median returns the median of one figure over the runs.
func median(all []figures, fig func(figures) float64) float64 {
	v := make([]float64, len(all))
	for i, f := range all {
		v[i] = fig(f)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
