// Package sdnotify tells systemd about the service's state (Type=notify),
// per sd_notify(3): one datagram to the socket named by $NOTIFY_SOCKET.
package sdnotify

import (
	"net"
	"os"
)

// States sent to systemd.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Reload   = "RELOADING=1"
)

// Notify sends state to systemd; without $NOTIFY_SOCKET it does nothing.
func Notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' { // abstract socket
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}
