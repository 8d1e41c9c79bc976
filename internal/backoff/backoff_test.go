package backoff

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 10 * time.Second} {
		for i := 0; i < 50; i++ {
			if got := b.Next(attempts); got < want/2 || got > want {
				t.Fatalf("Next(%d) = %v, want in [%v, %v]", attempts, got, want/2, want)
			}
		}
	}
	if got := (Backoff{}).Next(3); got != 0 {
		t.Errorf("zero Backoff.Next = %v, want 0", got)
	}
}
