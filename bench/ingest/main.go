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
// batch (gatewayd's batch size) to another folder, the limit, (b') the
// same computing every body's SHA-256, and (b”) writing every batch into
// a spool segment synced before its move, what gatewayd cannot skip, (b‴)
// the same pipelined as gatewayd's intake is (the next batch fetched while
// the previous one is synced and moved: gatewayd without its parser and its
// store, what its rate can at best approach), and (c) the built gatewayd
// binary ingesting the folder end to end (fetch, spool, store, protocol,
// move), and its peak RSS; -compare BIN runs another build beside it in
// each round, in alternating order. -disk DIR puts the spool segments and
// gatewayd's state elsewhere (a tmpfs, to see what the disk costs). Beside each rate it prints the CPU
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
	runs := flag.Int("runs", 1, "rounds of the measurements, on the same mix")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.IntVar(&batchSize, "batch", 250, "gatewayd's batch_size, and fetch + move's")
	flag.StringVar(&compareBin, "compare", "", "another gatewayd binary to run in each round beside this tree's, in alternating order (paired figures)")
	disk := flag.String("disk", "", "where the spool segments and gatewayd's state are written (default: the bench's temporary directory; a tmpfs such as /dev/shm shows what the disk costs)")
	flag.Parse()
	h := harness.New("gatewayd-bench-", *keep)
	defer h.Close()
	writeDir = h.Dir
	if *disk != "" {
		d, err := os.MkdirTemp(*disk, "gatewayd-bench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
		writeDir = d
	}
	if err := run(h, *n, *big, max(*runs, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		if writeDir != h.Dir {
			os.RemoveAll(writeDir)
		}
		os.Exit(1)
	}
}

var (
	batchSize  int
	master     int    // the test Dovecot's pid
	writeDir   string // where spool segments and gatewayd's state go
	compareBin string // -compare: another build, run beside this tree's
)

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
		f.print(r)
		all = append(all, f)
	}
	if runs > 1 {
		fmt.Printf("medians of %d runs (peak RSS: the largest):\n", runs)
	}
	rss := 0.0
	for _, f := range all {
		rss = max(rss, f.gw.rssMB)
	}
	limit := median(all, func(f figures) float64 { return f.fetchMove.rate })
	fmt.Printf("fetch+move with SHA-256 %.0f msgs/s (%.2f of fetch+move), with the spool too %.0f (%.2f)\n",
		median(all, func(f figures) float64 { return f.hashed.rate }), median(all, func(f figures) float64 { return f.hashed.rate / f.fetchMove.rate }),
		median(all, func(f figures) float64 { return f.spooled.rate }), median(all, func(f figures) float64 { return f.spooled.rate / f.fetchMove.rate }))
	fmt.Printf("fetch+spool+move pipelined as gatewayd's intake %.0f msgs/s (%.2f of fetch+move); gatewayd %.2f of it\n",
		median(all, func(f figures) float64 { return f.pipelined.rate }), median(all, func(f figures) float64 { return f.pipelined.rate / f.fetchMove.rate }),
		median(all, func(f figures) float64 { return f.gw.rate / f.pipelined.rate }))
	if compareBin != "" {
		fmt.Printf("-compare %s: %.0f msgs/s, ratio_to_limit %.2f (this tree: %.0f, %.2f)\n", compareBin,
			median(all, func(f figures) float64 { return f.other.rate }), median(all, func(f figures) float64 { return f.other.rate / f.fetchMove.rate }),
			median(all, func(f figures) float64 { return f.gw.rate }), median(all, figures.ratioToLimit))
	}
	fmt.Printf("gateway_msgs_per_s=%.0f raw_fetch_msgs_per_s=%.0f ratio=%.2f peak_rss_mb=%.0f fetch_move_msgs_per_s=%.0f ratio_to_limit=%.2f\n",
		median(all, func(f figures) float64 { return f.gw.rate }), median(all, func(f figures) float64 { return f.raw.rate }),
		median(all, figures.ratio), rss, limit, median(all, figures.ratioToLimit))
	return nil
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
