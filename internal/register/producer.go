package register

import (
	"context"
	"log/slog"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/durable"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
)

// Producer writes each day's register once the day is over, in order
// (days missed while the daemon was down are produced at start), and
// hands each over to conservation, retrying failures.
type Producer struct {
	Store    *store.Store
	StateDir string
	Office   func() Office // the office, its code and AOO (rules reload)
	Handover config.Register
	Now      clock.Clock
	Log      *slog.Logger
	Producer string // "gatewayd VERSION", in the metadata
	// Heart beats while the loop is alive (nil: no watchdog).
	Heart *supervise.Heart
}

// Produce writes the register of every day not yet produced before today
// (Europe/Rome), oldest first, each with its row in one transaction; it
// returns the days produced.
func (p *Producer) Produce(ctx context.Context) ([]time.Time, error) {
	var done []time.Time
	for {
		var day time.Time
		more := false
		err := p.Store.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			day, more, err = p.produceNext(ctx, tx)
			return err
		})
		if err != nil {
			return done, err
		}
		if !more {
			return done, nil
		}
		done = append(done, day)
		p.Log.Info("daily register produced", "day", day.Format(time.DateOnly))
	}
}

// produceNext produces the day after the last one produced, if it is over.
func (p *Producer) produceNext(ctx context.Context, tx *store.Tx) (time.Time, bool, error) {
	last, ok, err := tx.LastRegisterDay(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	var day time.Time
	if ok {
		day = last.Day.AddDate(0, 0, 1)
	} else if day, ok, err = tx.FirstRegisterDay(ctx); err != nil || !ok {
		return time.Time{}, false, err
	}
	if !day.Before(clock.Day(tx.Now())) {
		return time.Time{}, false, nil
	}
	e, err := tx.RegisterEntries(ctx, day)
	if err != nil {
		return time.Time{}, false, err
	}
	csvBytes := CSV(e)
	meta := MetaOf(p.Office(), day, e, csvBytes, last.Day, last.JSONSHA256, tx.Now(), p.Producer)
	jsonBytes := meta.Encode()
	csvPath, jsonPath := Paths(p.StateDir, day)
	if err := durable.WriteFile(csvPath, csvBytes, 0o600); err != nil {
		return time.Time{}, false, err
	}
	if err := durable.WriteFile(jsonPath, jsonBytes, 0o600); err != nil {
		return time.Time{}, false, err
	}
	return day, true, tx.RecordRegisterDay(ctx, store.RegisterDay{Day: day, First: meta.First, Last: meta.Last, Count: meta.Count,
		CSVSHA256: meta.CSVSHA256, JSONSHA256: hexSHA(jsonBytes)})
}

// Run produces and hands over at start, then after each midnight and at
// each retry, until ctx ends. Failures are logged and retried later.
func (p *Producer) Run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		p.Heart.Beat()
		_, perr := p.Produce(ctx)
		if perr != nil {
			p.Log.Error("producing the daily register failed, will retry", "err", perr)
		}
		herr := p.HandOver(ctx)
		now := p.Now.Now()
		wake := clock.Day(now).AddDate(0, 0, 1).Add(30 * time.Second) // just after midnight, Europe/Rome
		if next, ok, err := p.Store.NextHandover(ctx); err == nil && ok && next.Before(wake) {
			wake = next
		}
		if perr != nil || herr != nil {
			// Not at the next midnight (a day's register a day late), nor at
			// once (a handover whose record failed would run every second).
			failures++
			wake = now.Add(handoverRetry.Next(failures))
		} else {
			failures = 0
		}
		p.Heart.Wait(max(wake.Sub(now), time.Second))
		clock.Sleep(ctx, max(wake.Sub(now), time.Second))
	}
}
