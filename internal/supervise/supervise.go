// Package supervise runs the daemon's long-lived loops (the mailboxes'
// watchers, the outbox, the deadlines, the signal handling, the watchdog):
// each on its own goroutine, started again after a panic (logged with its
// stack and counted, see internal/panics) after a pause that doubles, so a
// loop that keeps panicking never spins; and each with a Heart whose beats
// tell the systemd watchdog that it is alive. See mox's queue.go
// (recovering at the top of its loop) and its metrics/panic.go.
package supervise

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/panics"
)

// DefaultBackoff paces the restarts of a loop: 1 s doubling to 1 min.
var DefaultBackoff = backoff.Backoff{Base: time.Second, Max: time.Minute}

// Supervisor starts loops and restarts them after a panic.
type Supervisor struct {
	Log     *slog.Logger
	Hearts  *Hearts         // nil: no heartbeats
	Backoff backoff.Backoff // the pause before a restart (zero: DefaultBackoff)
	wg      sync.WaitGroup
}

// Loop is a loop's body: it runs until ctx ends, beating h.
type Loop func(ctx context.Context, h *Heart)

// Go runs loop as component name (e.g. "intake gc") on its own goroutine
// until ctx ends: a panic is recovered, logged with its stack at error
// level and counted under the component (the name's first word), and the
// loop is started again after a pause; so is a loop that returned before
// ctx ended. The returned channel is closed when the loop has returned for
// good.
func (s *Supervisor) Go(ctx context.Context, name string, loop Loop) <-chan struct{} {
	done := make(chan struct{})
	var h *Heart
	if s.Hearts != nil {
		h = s.Hearts.Add(name)
	}
	s.wg.Go(func() {
		defer close(done)
		if s.Hearts != nil {
			defer s.Hearts.Remove(h)
		}
		s.run(ctx, name, h, loop)
	})
	return done
}

// Wait waits until every loop started has returned.
func (s *Supervisor) Wait() { s.wg.Wait() }

func (s *Supervisor) run(ctx context.Context, name string, h *Heart, loop Loop) {
	b := s.Backoff
	if b == (backoff.Backoff{}) {
		b = DefaultBackoff
	}
	log := s.Log.With("loop", name)
	for failures := 0; ; {
		started := time.Now()
		panicked := once(ctx, log, component(name), h, loop)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > b.Max {
			failures = 0 // it ran well a while: start again from the base pause
		}
		failures++
		pause := b.Next(failures)
		if panicked {
			log.Warn("the loop starts again after a pause", "restart_in", pause.Round(time.Millisecond))
		} else {
			log.Error("the loop returned before its end: it starts again after a pause", "restart_in", pause.Round(time.Millisecond))
		}
		h.Wait(pause)
		if !clock.Sleep(ctx, pause) {
			return
		}
	}
}

// once runs the loop; a panic is recovered, counted and logged with the
// stack where it happened.
func once(ctx context.Context, log *slog.Logger, component string, h *Heart, loop Loop) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panics.Recovered(log, component, "panic in a loop: recovered", v)
			panicked = true
		}
	}()
	h.Beat()
	loop(ctx, h)
	return false
}

// component is the first word of a loop's name: "intake gc" → "intake".
func component(name string) string {
	for i, c := range name {
		if c == ' ' {
			return name[:i]
		}
	}
	return name
}
