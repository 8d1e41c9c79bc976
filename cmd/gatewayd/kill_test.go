package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatewayd/internal/protocol"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// buildBinary builds gatewayd into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatewayd")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building gatewayd: %v\n%s", err, out)
	}
	return bin
}

// TestBinary_SIGKILL kills the built daemon at random moments while it
// ingests 1000 messages, restarting it each time: in the end every message
// has exactly one protocol number, without gaps, none lost or left behind.
func TestBinary_SIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	const total, minKills = 1000, 10
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	c := srv.Client("gc", "pw")
	dovecot.Append(t, c, "INBOX", testenv.Messages("kill", total)...)
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: "gc", Password: "pw", Extra: "    batch_size: 20\n"})
	bin := buildBinary(t)
	db := testenv.OpenDB(t, state)
	progress := func() int { return testenv.Int(t, db, `SELECT count(*) FROM sightings WHERE moved_at IS NOT NULL`) }

	// Kill until the work is done, so the kills fall all along the ingest:
	// before the first commit, between commit and move, mid-fetch.
	kills := killUntil(t, bin, cfg.File, state, progress, total)
	if kills < minKills {
		t.Fatalf("only %d kills happened before the work was done, want %d: the test needs more messages", kills, minKills)
	}
	cmd, ready := startNotified(t, bin, cfg.File, state)
	waitReady(t, ready, state)
	testenv.Eventually(t, 120*time.Second, func() (bool, string) {
		n := progress()
		return n == total, fmt.Sprintf("%d of %d moved", n, total)
	})
	// A clean stop: SIGTERM, exit status 0.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v, want exit status 0", err)
	}
	testenv.CheckProtocols(t, db, protocol.Year(time.Now()), total)
	if n := testenv.Int(t, db, `SELECT count(*) FROM messages`); n != total {
		t.Errorf("%d messages recorded, want %d", n, total)
	}
	if n := dovecot.Count(t, c, "INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages, want 0", n)
	}
	if n := dovecot.Count(t, c, "gatewayd/accepted"); n != total {
		t.Errorf("accepted folder holds %d messages, want %d", n, total)
	}
}

// startNotified starts the daemon with a NOTIFY_SOCKET; ready is closed
// when it sends READY=1.
func startNotified(t *testing.T, bin, config, state string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ready := make(chan struct{})
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				close(ready)
				return
			}
		}
	}()
	return startDaemon(t, bin, config, state, "NOTIFY_SOCKET="+sock), ready
}

// addToConfig puts top-level YAML lines into a test configuration file,
// before its mailboxes.
func addToConfig(t *testing.T, file, lines string) {
	t.Helper()
	conf, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(conf), "mailboxes:", lines+"\nmailboxes:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits for READY=1 (systemd's readiness protocol), failing with
// the daemon's log after 20 s.
func waitReady(t *testing.T, ready <-chan struct{}, state string) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		log, _ := os.ReadFile(filepath.Join(state, "daemon.log"))
		t.Fatalf("no READY=1 on NOTIFY_SOCKET within 20s; log:\n%s", log)
	}
}

func startDaemon(t *testing.T, bin, config, state string, env ...string) *exec.Cmd {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(state, "daemon.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gatewayd: %v", err)
	}
	return cmd
}

// killUntil starts the daemon and kills it with SIGKILL at random moments,
// again and again, until progress reaches total. The window before a kill
// widens while nothing moves, so that a slow start (a loaded machine,
// logins) still leaves room for work. It returns the number of kills.
func killUntil(t *testing.T, bin, config, state string, progress func() int, total int, env ...string) int {
	t.Helper()
	kills, window, last, stalled := 0, 90, 0, 0
	for n := progress(); n < total; n = progress() {
		if n == last {
			stalled++
		} else {
			last, stalled = n, 0
		}
		if stalled >= 3 {
			window, stalled = min(window*2, 2000), 0
		}
		cmd := startDaemon(t, bin, config, state, env...)
		time.Sleep(time.Duration(15+rand.IntN(window)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		if kills > 300 {
			log, _ := os.ReadFile(filepath.Join(state, "daemon.log"))
			t.Fatalf("no progress after 300 restarts (window %d ms, %d of %d done); the log's end:\n%s", window, progress(), total,
				log[max(0, len(log)-3000):])
		}
	}
	return kills
}
