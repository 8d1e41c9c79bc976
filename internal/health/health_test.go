package health

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/store"
)

// TestCheck: a mailbox synced within stale_after and nothing pending is
// 200; a handover past its day, a day's register not produced an hour
// after its midnight, a mailbox never synced since start, and an
// unreadable store each make it 503 with the problem named.
func TestCheck(t *testing.T) {
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	board := NewBoard(clock, "gc")
	board.Synced("gc")
	day := store.RegisterDay{Day: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), Attempts: 3, LastError: "conserva: exit status 3"}
	stats := store.Stats{Outbox: map[string]int{"queued": 2}, OldestQueued: now.Add(-time.Minute)}
	var late []store.RegisterDay
	srv := &Server{Board: board, StaleAfter: 15 * time.Minute, Now: clock, Log: slog.New(slog.DiscardHandler),
		Stats: func(context.Context) (store.Stats, error) { return stats, nil },
		Late:  func([]store.RegisterDay, time.Time) []store.RegisterDay { return late }}
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != 200 || !strings.Contains(body, `"queued": 2`) || !strings.Contains(body, `"oldest_queued_seconds": 60`) {
		t.Fatalf("healthy: %d %s", code, body)
	}
	stats.Pending, late = []store.RegisterDay{day}, []store.RegisterDay{day}
	if code, body := get(); code != 503 || !strings.Contains(body, "register 2026-11-16: not handed over") || !strings.Contains(body, "exit status 3") {
		t.Fatalf("late handover: %d %s", code, body)
	}
	late, stats.Pending = nil, nil
	stats.NextToProduce = time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC) // today's: not due
	if code, body := get(); code != 200 {
		t.Fatalf("today's register not yet produced: %d %s", code, body)
	}
	stats.NextToProduce = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // the day before yesterday: late
	if code, body := get(); code != 503 || !strings.Contains(body, "register 2026-11-16: not produced") {
		t.Fatalf("a day not produced: %d %s", code, body)
	}
	stats.NextToProduce = time.Time{}
	board2 := NewBoard(clock, "pec")
	now = now.Add(20 * time.Minute)
	srv.Board = board2
	board2.Failed("pec", errors.New("login failed for mario.rossi@inps.it"))
	if code, body := get(); code != 503 || !strings.Contains(body, "mailbox pec: not synced for 20m0s") || strings.Contains(body, "mario.rossi@") {
		t.Fatalf("stale mailbox: %d %s", code, body)
	}
}
