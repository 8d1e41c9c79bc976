// Package backoff computes the waits between failed attempts: doubling
// from a base, capped, with jitter so that many failing parts do not retry
// in step. Callers store the result before waiting (a crash cannot turn a
// failure into a hot loop).
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds the wait: Base doubled per attempt, capped at Max, drawn
// in [d/2, d].
type Backoff struct {
	Base, Max time.Duration
}

// Next returns the wait after the given number of consecutive failures.
func (b Backoff) Next(attempts int) time.Duration {
	d := b.Base
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}
