package main

import (
	"database/sql"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// dbQuerier is what the bench asks of the store.
type dbQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
}

// poller notes when each recorded message first becomes visible to a
// reader of the store, polling every 20 ms.
type poller struct {
	db   dbQuerier
	seen map[string]time.Time
	quit chan struct{}
	wg   sync.WaitGroup
}

func startPoller(db dbQuerier) *poller {
	p := &poller{db: db, seen: map[string]time.Time{}, quit: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var last int64
		for {
			last = p.poll(last)
			select {
			case <-p.quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *poller) poll(after int64) int64 {
	rows, err := p.db.Query(`SELECT id, message_id FROM messages WHERE id > ? ORDER BY id`, after)
	if err != nil {
		return after
	}
	defer rows.Close()
	now := time.Now()
	for rows.Next() {
		var id string
		if rows.Scan(&after, &id) != nil {
			continue
		}
		if _, ok := p.seen[id]; !ok {
			p.seen[id] = now
		}
	}
	return after
}

// stop ends the polling and returns what it saw.
func (p *poller) stop() map[string]time.Time {
	close(p.quit)
	p.wg.Wait()
	p.poll(0)
	return p.seen
}

// report matches the arrivals with their decisions and prints the figures.
func report(db dbQuerier, arrivals []arrival, seen map[string]time.Time, logPath string) error {
	recorded := map[string]time.Time{}
	rows, err := db.Query(`SELECT message_id, recorded_at FROM messages`)
	if err != nil {
		return fmt.Errorf("reading decisions: %w", err)
	}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return fmt.Errorf("reading decisions: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			rows.Close()
			return fmt.Errorf("reading recorded_at %q: %w", at, err)
		}
		recorded[id] = t
	}
	rows.Close()
	var lat, vis []float64
	for _, a := range arrivals {
		t, ok := recorded[a.id]
		if !ok {
			return fmt.Errorf("mail %s was not recorded", a.id)
		}
		lat = append(lat, ms(t.Sub(a.at)))
		if s, ok := seen[a.id]; ok {
			vis = append(vis, ms(s.Sub(a.at)))
		}
	}
	span := arrivals[len(arrivals)-1].at.Sub(arrivals[0].at)
	fmt.Printf("%d mails appended in %.1fs: %.1f mails/s\n", len(arrivals), span.Seconds(), float64(len(arrivals)-1)/span.Seconds())
	var batches int
	db.QueryRow(`SELECT count(*) FROM spool_segments`).Scan(&batches)
	fmt.Printf("gatewayd took them in %d batches (%.1f mails each)\n", batches-1, float64(len(arrivals))/float64(batches-1))
	printBatchTimes(logPath)
	slices.Sort(lat)
	slices.Sort(vis)
	fmt.Printf("visible to a reader (polled every 20 ms): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		pct(vis, 0.50), pct(vis, 0.99), pct(vis, 1))
	fmt.Printf("count=%d rate_per_s=%.1f\n", len(arrivals), float64(len(arrivals)-1)/span.Seconds())
	fmt.Printf("p50_ms=%.0f p99_ms=%.0f max_ms=%.0f\n", pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1))
	return nil
}

// printBatchTimes summarises the daemon's "batch done" debug lines.
func printBatchTimes(logPath string) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return
	}
	times := map[string][]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="batch done"`) {
			continue
		}
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, "=")
			if d, err := time.ParseDuration(v); ok && err == nil {
				times[k] = append(times[k], ms(d))
			}
		}
	}
	for _, k := range []string{"fetch", "classify", "store", "move"} {
		v := times[k]
		slices.Sort(v)
		if len(v) > 0 {
			fmt.Printf("  per batch %-8s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", k, pct(v, 0.5), pct(v, 0.99), pct(v, 1))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the q-quantile of sorted v by nearest rank.
func pct(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[max(i, 0)]
}
