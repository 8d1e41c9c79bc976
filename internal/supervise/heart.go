package supervise

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultGrace is how long a loop may work between two beats.
const DefaultGrace = 5 * time.Minute

// epoch anchors the monotonic clock of the hearts (immune to the wall
// clock's jumps).
var epoch = time.Now()

// Hearts are the heartbeats of the running loops: the systemd watchdog is
// fed only while none is overdue (see Stale).
type Hearts struct {
	// Grace is how long a loop may work between two beats (zero:
	// DefaultGrace): the longest fetch, transaction or SMTP conversation
	// must fit in it.
	Grace time.Duration
	now   func() time.Duration // since epoch; tests set it
	mu    sync.Mutex
	all   map[*Heart]struct{}
}

// Heart is one loop's heartbeat. The nil Heart ignores beats: a loop run
// outside a supervisor (tests, the demo's passes) needs none.
type Heart struct {
	name string
	hs   *Hearts
	due  atomic.Int64 // nanoseconds since epoch by which the next beat must come
}

// Add registers a heart, due within the grace from now.
func (hs *Hearts) Add(name string) *Heart {
	h := &Heart{name: name, hs: hs}
	h.Beat()
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.all == nil {
		hs.all = map[*Heart]struct{}{}
	}
	hs.all[h] = struct{}{}
	return h
}

// Remove forgets a heart (its loop ended for good).
func (hs *Hearts) Remove(h *Heart) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	delete(hs.all, h)
}

// Stale names the loops whose beat is overdue, sorted.
func (hs *Hearts) Stale() []string {
	now := int64(hs.clock())
	hs.mu.Lock()
	defer hs.mu.Unlock()
	var out []string
	for h := range hs.all {
		if now > h.due.Load() {
			out = append(out, h.name)
		}
	}
	sort.Strings(out)
	return out
}

// Len returns how many hearts are registered.
func (hs *Hearts) Len() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.all)
}

func (hs *Hearts) clock() time.Duration {
	if hs.now != nil {
		return hs.now()
	}
	return time.Since(epoch)
}

func (hs *Hearts) grace() time.Duration {
	if hs.Grace > 0 {
		return hs.Grace
	}
	return DefaultGrace
}

// Name returns the loop's name.
func (h *Heart) Name() string {
	if h == nil {
		return ""
	}
	return h.name
}

// Beat says the loop is alive and working: its next beat is due within
// the grace.
func (h *Heart) Beat() { h.Wait(0) }

// Wait says the loop is alive and about to wait up to d (for mail, for
// its timer) before it works again: its next beat is due within d plus
// the grace.
func (h *Heart) Wait(d time.Duration) {
	if h == nil {
		return
	}
	due := h.hs.clock() + max(d, 0) + h.hs.grace()
	if due < 0 { // overflow: a wait beyond any horizon
		due = math.MaxInt64
	}
	h.due.Store(int64(due))
}

// Park says the loop waits on something that cannot hang (its context, a
// scheduler's timer) for as long as it takes: no beat is due until the
// next Beat or Wait.
func (h *Heart) Park() {
	if h == nil {
		return
	}
	h.due.Store(math.MaxInt64)
}
