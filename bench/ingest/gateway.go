package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/testenv"
)

// outcomeFolders are where gatewayd moves the mix (testenv's defaults),
// children first.
var outcomeFolders = []string{"gatewayd/accepted", "gatewayd/refused", "gatewayd/ignored", "gatewayd/quarantine", "gatewayd"}

// gatewayRun is what one run of the binary measured.
type gatewayRun struct {
	rate  float64 // from its logged-in connection to the last move recorded
	whole float64 // from process start
	rssMB float64 // its peak RSS
	cpu   cpuUse  // from process start to the last move (client: gatewayd)
}

// gateway runs the built binary bin, with a state directory of its own,
// until every message of INBOX is moved. It is timed from the logged-in
// connection (as the clients are timed) to the last move recorded; the
// rate from process start and the process's peak RSS come beside it.
func gateway(h *harness.H, bin, addr string, total, run int) (gatewayRun, error) {
	state := filepath.Join(writeDir, fmt.Sprintf("state%d", run))
	cfg := testenv.Config(h, state, testenv.Mailbox{Name: "bench", Address: "bench@example.it", Addr: addr,
		User: "bench", Password: "bench", PollInterval: "2s", Extra: fmt.Sprintf("    max_message_size: 100MB\n    batch_size: %d\n", batchSize)})
	db := h.DB(state)
	cmd := exec.Command(bin, "run", "--config", cfg.File)
	logf, err := os.Create(filepath.Join(h.Dir, fmt.Sprintf("gatewayd%d.log", run)))
	if err != nil {
		return gatewayRun{}, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	cmd.Env = os.Environ()
	for bench, daemon := range map[string]string{"BENCH_CPUPROFILE": "GATEWAYD_CPUPROFILE", "BENCH_TRACE": "GATEWAYD_TRACE"} {
		if p := os.Getenv(bench); p != "" {
			if run > 1 {
				p = fmt.Sprintf("%s.%d", p, run)
			}
			cmd.Env = append(cmd.Env, daemon+"="+p)
		}
	}
	before := sampleCPU(master)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return gatewayRun{}, err
	}
	for testenv.Int(h, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`) < total {
		if time.Since(start) > 10*time.Minute {
			cmd.Process.Kill()
			cmd.Wait()
			return gatewayRun{}, fmt.Errorf("gatewayd did not finish in 10 minutes (log: %s)", logf.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	whole := float64(total) / time.Since(start).Seconds()
	after := sampleCPU(master)
	_, _, gwCPU, _ := procStat(cmd.Process.Pid)
	after.self, after.selfWait = before.self+gwCPU, before.selfWait+runDelay(cmd.Process.Pid)
	use := before.to(after)
	// VmHWM is this process image's own peak. (getrusage's ru_maxrss is
	// not: it carries the parent's peak across the vfork before exec.)
	hwm, err := vmHWM(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		return gatewayRun{}, err
	}
	connected, err := connectedAt(logf.Name())
	if err != nil {
		return gatewayRun{}, err
	}
	var lastMove string
	db.QueryRow(`SELECT max(moved_at) FROM sightings`).Scan(&lastMove)
	last, err := time.Parse(time.RFC3339Nano, lastMove)
	if err != nil {
		return gatewayRun{}, fmt.Errorf("reading the last move: %w", err)
	}
	return gatewayRun{rate: float64(total) / last.Sub(connected).Seconds(), whole: whole, rssMB: hwm, cpu: use}, nil
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
