package intake

import "sync/atomic"

// panicsTotal counts panics recovered in mailbox sessions.
var panicsTotal atomic.Int64

// Panics returns how many mailbox-session panics were recovered.
func Panics() int64 { return panicsTotal.Load() }
