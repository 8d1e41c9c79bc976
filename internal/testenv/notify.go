package testenv

import (
	"net"
	"path/filepath"
	"sync"
)

// Notifications records the datagrams sent to a NOTIFY_SOCKET (systemd's
// readiness and watchdog protocol).
type Notifications struct {
	Socket string // the socket's path, for NOTIFY_SOCKET
	mu     sync.Mutex
	got    []string
}

// ListenNotify opens a notification socket of the test's, closed when
// the test ends.
func ListenNotify(t T) *Notifications {
	t.Helper()
	n := &Notifications{Socket: filepath.Join(t.TempDir(), "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.Socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
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
	return n
}

// Count returns how many times state (e.g. "READY=1") was sent.
func (n *Notifications) Count(state string) int {
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
