// Package clock is gatewayd's one clock and its one time zone. Every
// package that needs the time takes a Clock (tests inject their own), and
// every calendar date is a date in Europe/Rome (the tz database is
// embedded, so the binary does not depend on the system's).
package clock

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Europe/Rome even on a system without zoneinfo
)

// Rome is Europe/Rome, the office's time zone.
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Clock tells the time; the zero Clock is the system's.
type Clock func() time.Time

// Now returns the time.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Day returns the calendar day of t in Rome, at midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Rome).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Rome)
}

// Settable is a clock that stands still until it is set or advanced:
// tests and the demo's simulated days use it.
type Settable struct {
	mu sync.Mutex
	t  time.Time
}

// NewSettable returns a clock showing t.
func NewSettable(t time.Time) *Settable { return &Settable{t: t} }

// Now returns the time it shows.
func (s *Settable) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}

// Set makes it show t.
func (s *Settable) Set(t time.Time) {
	s.mu.Lock()
	s.t = t
	s.mu.Unlock()
}

// Advance moves it forward by d.
func (s *Settable) Advance(d time.Duration) {
	s.mu.Lock()
	s.t = s.t.Add(d)
	s.mu.Unlock()
}

// Shifted is the system clock moved by an offset that can jump: the demo
// shows weeks of deadlines in seconds, while time still runs.
type Shifted struct {
	offset atomic.Int64 // nanoseconds
}

// Now returns the system time plus the offset.
func (s *Shifted) Now() time.Time { return time.Now().Add(time.Duration(s.offset.Load())) }

// JumpTo moves the clock so that it shows t now.
func (s *Shifted) JumpTo(t time.Time) { s.offset.Store(int64(time.Until(t))) }

// Sleep waits d or until ctx ends; it reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
