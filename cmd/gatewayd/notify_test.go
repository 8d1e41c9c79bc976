package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatewayd/internal/testenv"
)

// notified is a daemon started with a NOTIFY_SOCKET, and what it sent
// there (READY=1, RELOADING=1, WATCHDOG=1 …).
type notified struct {
	*testenv.Notifications
	cmd   *exec.Cmd
	state string
}

// startRecorded starts the daemon with a NOTIFY_SOCKET whose datagrams
// are recorded, and env; it is stopped with SIGTERM when the test ends.
func startRecorded(t *testing.T, bin, config, state string, env ...string) *notified {
	t.Helper()
	n := &notified{Notifications: testenv.ListenNotify(t), state: state}
	n.cmd = startDaemon(t, bin, config, state, append(env, "NOTIFY_SOCKET="+n.Socket)...)
	t.Cleanup(func() { n.cmd.Process.Signal(os.Interrupt); n.cmd.Wait() })
	n.waitCount(t, "READY=1", 1)
	return n
}

// waitCount waits until state was sent at least want times.
func (n *notified) waitCount(t *testing.T, state string, want int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		return n.Count(state) >= want, state + " not received; log:\n" + n.log()
	})
}

// reload sends SIGHUP and waits until the daemon is ready again.
func (n *notified) reload(t *testing.T) {
	t.Helper()
	ready := n.Count("READY=1")
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
