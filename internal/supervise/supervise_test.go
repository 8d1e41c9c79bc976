package supervise

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/panics"
	"gatewayd/internal/testenv"
)

// TestSupervisor_restartsAfterPanic: a loop that panics twice is started a
// third time; each panic is counted under its component and logged with
// the stack of where it happened; the loop's heart is gone once it ends.
func TestSupervisor_restartsAfterPanic(t *testing.T) {
	var logs testenv.LogBuffer
	hearts := &Hearts{}
	s := &Supervisor{Log: slog.New(slog.NewTextHandler(&logs, nil)), Hearts: hearts,
		Backoff: backoff.Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond}}
	before, beforePart := panics.Count(), panics.ByComponent()["flaky"]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	running := make(chan *Heart)
	done := s.Go(ctx, "flaky one", func(ctx context.Context, h *Heart) {
		runs++
		if runs <= 2 {
			explode()
		}
		running <- h
		<-ctx.Done()
	})
	h := <-running
	if h == nil || h.Name() != "flaky one" || hearts.Len() != 1 {
		t.Errorf("the loop's heart = %v (%d registered), want one named %q", h, hearts.Len(), "flaky one")
	}
	if got := panics.Count() - before; got != 2 {
		t.Errorf("panics counted = %d, want 2", got)
	}
	if got := panics.ByComponent()["flaky"] - beforePart; got != 2 {
		t.Errorf("panics counted for component flaky = %d, want 2", got)
	}
	for _, want := range []string{"level=ERROR msg=\"panic in a loop: recovered\" loop=\"flaky one\" panic=boom", "supervise.explode",
		"level=WARN msg=\"the loop starts again after a pause\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	cancel()
	<-done
	if hearts.Len() != 0 {
		t.Errorf("%d hearts registered after the loop ended, want 0", hearts.Len())
	}
}

func explode() { panic("boom") }

// TestSupervisor_backsOff: a loop that keeps panicking (or returning) is
// started again after pauses that double: no hot loop.
func TestSupervisor_backsOff(t *testing.T) {
	for _, panicking := range []bool{true, false} {
		var logs testenv.LogBuffer
		s := &Supervisor{Log: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: backoff.Backoff{Base: 4 * time.Millisecond, Max: time.Second}}
		ctx, cancel := context.WithCancel(context.Background())
		runs := 0
		done := s.Go(ctx, "bad", func(ctx context.Context, h *Heart) {
			if runs++; runs == 5 {
				cancel()
				return
			}
			if panicking {
				panic("again")
			}
		})
		<-done
		cancel()
		pauses := regexp.MustCompile(`restart_in=(\S+)`).FindAllStringSubmatch(logs.String(), -1)
		if len(pauses) != 4 {
			t.Fatalf("panicking=%v: %d restarts logged, want 4:\n%s", panicking, len(pauses), logs.String())
		}
		for i, p := range pauses {
			d, err := time.ParseDuration(p[1])
			// The i-th pause is drawn in [d/2, d] with d = 4ms·2^i.
			if low := 2 * time.Millisecond << i; err != nil || d < low-time.Millisecond {
				t.Errorf("panicking=%v: pause %d = %s, want at least %v", panicking, i+1, p[1], low)
			}
		}
	}
}

// TestHearts_stale: a loop is stale once its beat is overdue: the grace
// after a Beat, the wait plus the grace after a Wait, never after Park.
func TestHearts_stale(t *testing.T) {
	now := time.Duration(0)
	hs := &Hearts{Grace: time.Minute, now: func() time.Duration { return now }}
	a, b, c := hs.Add("a"), hs.Add("b"), hs.Add("c")
	if got := hs.Stale(); len(got) != 0 {
		t.Errorf("Stale() at start = %v, want none", got)
	}
	a.Wait(10 * time.Minute)
	c.Park()
	now = 2 * time.Minute
	if got := strings.Join(hs.Stale(), ","); got != "b" {
		t.Errorf("Stale() after 2m = %q, want b", got)
	}
	b.Beat()
	now = 3 * time.Minute
	if got := hs.Stale(); len(got) != 0 {
		t.Errorf("Stale() after b beat = %v, want none", got)
	}
	now = 12 * time.Minute
	if got := strings.Join(hs.Stale(), ","); got != "a,b" {
		t.Errorf("Stale() after 12m = %q, want a,b", got)
	}
	hs.Remove(a)
	hs.Remove(b)
	now = 1000 * time.Hour
	if got := hs.Stale(); len(got) != 0 {
		t.Errorf("Stale() with a parked heart only = %v, want none", got)
	}
	var nilHeart *Heart
	nilHeart.Beat() // a loop run outside a supervisor
	nilHeart.Wait(time.Hour)
	nilHeart.Park()
}
