// Command ingest measures gatewayd's intake against a raw IMAP fetch.
//
//	go run ./bench/ingest -n 2000
//
// It starts its own Dovecot, appends N messages (a realistic mix: 80 % text
// of 2–50 KB, 18 % with 100 KB–1 MB attachments, 2 % with 5–10 MB, plus one
// of -big MB), then measures (a) a minimal go-imap client that only UID
// FETCHes every body and (b) the built gatewayd binary ingesting the same
// folder end to end (fetch, spool, store, protocol, move), and its peak
// RSS. The last line is:
//
//	gateway_msgs_per_s=… raw_fetch_msgs_per_s=… ratio=… peak_rss_mb=…
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

func main() {
	n := flag.Int("n", 2000, "messages in the mix")
	big := flag.Int("big", 50, "size in MB of one extra large message (0: none)")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.IntVar(&batchSize, "batch", 250, "gatewayd's batch_size")
	flag.Parse()
	h := harness.New("gatewayd-bench-", *keep)
	defer h.Close()
	if err := run(h, *n, *big); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		os.Exit(1)
	}
}

var batchSize int

func run(h *harness.H, n, bigMB int) error {
	srv := dovecot.Start(h, map[string]string{"bench": "bench"})
	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login("bench", "bench").Wait(); err != nil {
		return err
	}
	total, bytes, err := load(c, n, bigMB)
	if err != nil {
		return err
	}
	fmt.Printf("loaded %d messages, %.0f MB\n", total, float64(bytes)/1e6)
	rawRate, err := rawFetch(c, total)
	if err != nil {
		return err
	}
	fmt.Printf("raw fetch: %.0f msgs/s\n", rawRate)
	gwRate, wholeRate, rssMB, err := gateway(h, srv.Addr(), total)
	if err != nil {
		return err
	}
	fmt.Printf("gatewayd: %.0f msgs/s from its logged-in connection (%.0f from process start), peak RSS %.0f MB\n",
		gwRate, wholeRate, rssMB)
	fmt.Printf("gateway_msgs_per_s=%.0f raw_fetch_msgs_per_s=%.0f ratio=%.2f peak_rss_mb=%.0f\n",
		gwRate, rawRate, gwRate/rawRate, rssMB)
	return nil
}

// rawFetch UID FETCHes every body in batches of 100 and discards it.
func rawFetch(c *imapclient.Client, total int) (float64, error) {
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, err
	}
	start := time.Now()
	got := 0
	for lo := 1; lo <= total; lo += 100 {
		var set imap.UIDSet
		set.AddRange(imap.UID(lo), imap.UID(min(lo+99, total)))
		cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				if b, ok := item.(imapclient.FetchItemDataBodySection); ok {
					io.Copy(io.Discard, b.Literal)
					got++
				}
			}
		}
		if err := cmd.Close(); err != nil {
			return 0, err
		}
	}
	if got != total {
		return 0, fmt.Errorf("raw fetch read %d bodies, want %d", got, total)
	}
	rate := float64(total) / time.Since(start).Seconds()
	return rate, c.Unselect().Wait()
}

// gateway runs the built binary until every message is moved. It returns
// the rate from the logged-in connection (as the raw client is timed) to
// the last move recorded, the rate from process start, and the process's
// peak RSS.
func gateway(h *harness.H, addr string, total int) (float64, float64, float64, error) {
	bin := filepath.Join(h.Dir, "gatewayd")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gatewayd").CombinedOutput(); err != nil {
		return 0, 0, 0, fmt.Errorf("building gatewayd: %v\n%s", err, out)
	}
	state := filepath.Join(h.Dir, "state")
	cfg := testenv.Config(h, state, testenv.Mailbox{Name: "bench", Address: "bench@example.it", Addr: addr,
		User: "bench", Password: "bench", PollInterval: "2s", Extra: fmt.Sprintf("    max_message_size: 100MB\n    batch_size: %d\n", batchSize)})
	db := h.DB(state)
	cmd := exec.Command(bin, "run", "--config", cfg.File)
	logf, _ := os.Create(filepath.Join(h.Dir, "gatewayd.log"))
	defer logf.Close()
	cmd.Stderr = logf
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		cmd.Env = append(os.Environ(), "GATEWAYD_CPUPROFILE="+p)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	for testenv.Int(h, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`) < total {
		if time.Since(start) > 10*time.Minute {
			cmd.Process.Kill()
			return 0, 0, 0, fmt.Errorf("gatewayd did not finish in 10 minutes (log: %s)", logf.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	whole := float64(total) / time.Since(start).Seconds()
	// VmHWM is this process image's own peak. (getrusage's ru_maxrss is
	// not: it carries the parent's peak across the vfork before exec.)
	hwm, err := vmHWM(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		return 0, 0, 0, err
	}
	connected, err := connectedAt(logf.Name())
	if err != nil {
		return 0, 0, 0, err
	}
	var lastMove string
	h.DB(state).QueryRow(`SELECT max(moved_at) FROM sightings`).Scan(&lastMove)
	last, err := time.Parse(time.RFC3339Nano, lastMove)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reading the last move: %w", err)
	}
	return float64(total) / last.Sub(connected).Seconds(), whole, hwm, nil
}

// connectedAt reads when the daemon logged "mailbox connected".
func connectedAt(logPath string) (time.Time, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `msg="mailbox connected"`) {
			ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			return time.Parse(time.RFC3339Nano, ts)
		}
	}
	return time.Time{}, fmt.Errorf("no \"mailbox connected\" in %s", logPath)
}

// vmHWM reads a process's peak resident set size in MB from /proc.
func vmHWM(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
