package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gatewayd/internal/testenv"
)

// notified is a daemon started with a NOTIFY_SOCKET, and what it sent
// there (READY=1, RELOADING=1, WATCHDOG=1 …).
type notified struct {
	cmd   *exec.Cmd
	state string
	mu    sync.Mutex
	got   []string
}

// startRecorded starts the daemon with a NOTIFY_SOCKET whose datagrams
// are recorded, and env; it is stopped with SIGTERM when the test ends.
func startRecorded(t *testing.T, bin, config, state string, env ...string) *notified {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notified{state: state}
	go func() {
		buf := make([]byte, 512)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.got = append(n.got, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	n.cmd = startDaemon(t, bin, config, state, append(env, "NOTIFY_SOCKET="+sock)...)
	t.Cleanup(func() { n.cmd.Process.Signal(os.Interrupt); n.cmd.Wait() })
	n.waitCount(t, "READY=1", 1)
	return n
}

// count returns how many times state was sent.
func (n *notified) count(state string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, s := range n.got {
		if s == state {
			c++
		}
	}
	return c
}

// waitCount waits until state was sent at least want times.
func (n *notified) waitCount(t *testing.T, state string, want int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return n.count(state) >= want, state + " not received; log:\n" + n.log()
	})
}

// reload sends SIGHUP and waits until the daemon is ready again.
func (n *notified) reload(t *testing.T) {
	t.Helper()
	ready := n.count("READY=1")
	n.cmd.Process.Signal(syscall.SIGHUP)
	n.waitCount(t, "READY=1", ready+1)
}

// log returns the daemon's log so far.
func (n *notified) log() string {
	b, _ := os.ReadFile(filepath.Join(n.state, "daemon.log"))
	return string(b)
}

// logHas reports whether every want is in the log.
func (n *notified) logHas(want ...string) bool {
	l := n.log()
	for _, w := range want {
		if !strings.Contains(l, w) {
			return false
		}
	}
	return true
}
