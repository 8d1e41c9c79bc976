package daemon

import (
	"context"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/supervise"
)

// retentionHour is when the nightly purge runs, Europe/Rome.
const retentionHour = 2 * time.Hour

// RetentionCutoff is the instant before which messages' bytes go, for a
// retention of days (0: none, zero time).
func RetentionCutoff(now time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return now.AddDate(0, 0, -days)
}

// retain runs the purge of the rules' retention every night at 02:00 and
// once at start, until ctx ends; failures are logged and tried again the
// next night.
func (d *Daemon) retain(ctx context.Context, h *supervise.Heart) {
	for ctx.Err() == nil {
		if r := d.office.Load().Rules; r != nil && r.RetentionDays > 0 {
			cutoff := RetentionCutoff(d.Now.Now(), r.RetentionDays)
			h.Wait(purgeTime) // a large store's purge takes a while: alive all the same
			res, err := d.store.Purge(ctx, cutoff)
			switch {
			case err != nil:
				d.Log.Error("retention: purging old messages failed, will retry tomorrow", "err", err)
			case res.Messages > 0:
				d.Log.Info("retention: old messages' bytes removed", "messages", res.Messages, "segments", res.Segments,
					"freed_bytes", res.Freed, "cutoff", cutoff.Format(time.DateOnly))
			}
		}
		now := d.Now.Now()
		next := clock.Day(now).Add(retentionHour)
		if !next.After(now) {
			next = clock.Day(now).AddDate(0, 0, 1).Add(retentionHour)
		}
		h.Wait(next.Sub(now))
		clock.Sleep(ctx, next.Sub(now))
	}
}

// purgeTime is how long a nightly purge may take before its loop counts
// as stuck.
const purgeTime = time.Hour
