// Package health keeps what the daemon's loops say of themselves — each
// mailbox's last successful sync, its connection, its failures — and
// serves it, with the store's backlog, as /healthz.
package health

import (
	"sort"
	"sync"
	"time"

	"gatewayd/internal/logging"
)

// Mailbox is what is known of one mailbox's loop.
type Mailbox struct {
	Name      string    `json:"name"`
	Connected bool      `json:"connected"`
	LastSync  time.Time `json:"last_sync"` // the last round that synced the folder to the end
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures"` // sessions that failed since start (reconnects)
	FailedAt  time.Time `json:"failed_at,omitzero"`
	StartedAt time.Time `json:"-"`
}

// SyncAge is how long the mailbox has gone without a sync (since the
// daemon started, when it never synced).
func (m Mailbox) SyncAge(now time.Time) time.Duration {
	if m.LastSync.IsZero() {
		return now.Sub(m.StartedAt)
	}
	return now.Sub(m.LastSync)
}

// Board records the loops' reports; safe for concurrent use. A nil
// *Board ignores reports.
type Board struct {
	mu    sync.Mutex
	boxes map[string]*Mailbox
	now   func() time.Time
}

// NewBoard returns a board for the named mailboxes.
func NewBoard(now func() time.Time, mailboxes ...string) *Board {
	b := &Board{boxes: map[string]*Mailbox{}, now: now}
	for _, m := range mailboxes {
		b.boxes[m] = &Mailbox{Name: m, StartedAt: now()}
	}
	return b
}

func (b *Board) box(name string) *Mailbox {
	m := b.boxes[name]
	if m == nil {
		m = &Mailbox{Name: name, StartedAt: b.now()}
		b.boxes[name] = m
	}
	return m
}

// Synced records a round that read the folder to its end.
func (b *Board) Synced(mailbox string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.box(mailbox)
	m.Connected, m.LastSync, m.LastError = true, b.now(), ""
}

// Remove forgets a mailbox (a reload took it out of the configuration).
func (b *Board) Remove(mailbox string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.boxes, mailbox)
}

// Failed records a session that ended in failure.
func (b *Board) Failed(mailbox string, err error) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.box(mailbox)
	m.Connected, m.Failures, m.FailedAt = false, m.Failures+1, b.now()
	if err != nil {
		m.LastError = logging.Mask(err.Error()) // served on /healthz: no addresses in clear
	}
}

// Mailboxes returns a copy of every mailbox's state, by name.
func (b *Board) Mailboxes() []Mailbox {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Mailbox, 0, len(b.boxes))
	for _, m := range b.boxes {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
