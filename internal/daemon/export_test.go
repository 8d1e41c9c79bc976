package daemon

import (
	"time"

	"gatewayd/internal/outbox"
)

// WrapQueue puts f's queue between the outbox's sender and the store
// (tests inject panics and hangs into a real part with it). Call it
// between Open and Run.
func WrapQueue(d *Daemon, f func(outbox.Queue) outbox.Queue) { d.sender.Store = f(d.sender.Store) }

// SetGrace sets how long a loop may work between two beats.
func SetGrace(d *Daemon, g time.Duration) { d.hearts.Grace = g }
