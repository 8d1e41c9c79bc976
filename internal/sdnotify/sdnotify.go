// Package sdnotify tells systemd about the service's state (Type=notify),
// per sd_notify(3): one datagram to the socket named by $NOTIFY_SOCKET;
// and reads the watchdog's interval as sd_watchdog_enabled(3) does.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// States sent to systemd.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Reload   = "RELOADING=1"
	Watchdog = "WATCHDOG=1" // the service is alive: the watchdog's timer starts again
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

// WatchdogInterval returns the watchdog's timeout systemd set
// (WatchdogSec=, passed as $WATCHDOG_USEC), or 0 when the watchdog is off:
// no $WATCHDOG_USEC, or a $WATCHDOG_PID that is another process's (the
// variables were inherited). Send Watchdog at about half of it.
func WatchdogInterval() (time.Duration, error) {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if p := os.Getenv("WATCHDOG_PID"); p != "" {
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return 0, fmt.Errorf("WATCHDOG_PID %q is not a process id", p)
		}
		if pid != os.Getpid() {
			return 0, nil
		}
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 || n > uint64(time.Duration(1<<63-1)/time.Microsecond) {
		return 0, fmt.Errorf("WATCHDOG_USEC %q is not a positive number of microseconds", usec)
	}
	return time.Duration(n) * time.Microsecond, nil
}
