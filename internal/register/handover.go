package register

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/durable"
	"gatewayd/internal/store"
)

// handoverTimeout bounds one run of the handover command.
const handoverTimeout = 5 * time.Minute

// HandOver hands over the produced days not yet handed over, oldest
// first; a failure is recorded, logged and retried after a wait that
// doubles from one minute to one hour. It stops at the first failure or
// the first day whose retry is not due: conservation receives the days in
// order.
func (p *Producer) HandOver(ctx context.Context) error {
	days, err := p.Store.PendingHandovers(ctx)
	if err != nil {
		p.Log.Error("reading pending register handovers", "err", err)
		return err
	}
	for _, d := range days {
		if d.NextAttempt.After(p.Now.Now()) {
			return nil
		}
		detail, err := p.handOver(ctx, d)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			wait := handoverRetry.Next(d.Attempts + 1)
			p.Log.Error("handing over the daily register failed, will retry", "day", d.Day.Format(time.DateOnly),
				"attempt", d.Attempts+1, "retry_in", wait, "err", err)
			if rerr := p.Store.HandoverFailed(ctx, d.Day, p.Now.Now().Add(wait), err); rerr != nil {
				p.Log.Error("recording a failed handover", "err", rerr)
				return rerr
			}
			return nil
		}
		if err := p.Store.HandedOver(ctx, d.Day, detail); err != nil {
			p.Log.Error("recording a handover", "err", err)
			return err
		}
		p.Log.Info("daily register handed over", "day", d.Day.Format(time.DateOnly), "to", detail)
	}
	return nil
}

// handoverRetry paces a day's failed handovers (stored with the day), and
// the loop after a failure of its own store or files.
var handoverRetry = backoff.Backoff{Base: time.Minute, Max: time.Hour}

// handOver gives one day's files to conservation: copied into the
// handover directory, or passed to the handover command.
func (p *Producer) handOver(ctx context.Context, d store.RegisterDay) (string, error) {
	day := d.Day
	csvPath, jsonPath := Paths(p.StateDir, day)
	// What goes to conservation is what was produced: the files are
	// checked against the fingerprints recorded then.
	files := map[string][]byte{}
	for path, want := range map[string]string{csvPath: d.CSVSHA256, jsonPath: d.JSONSHA256} {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", path, err)
		}
		if got := hexSHA(b); got != want {
			return "", fmt.Errorf("%s was altered since it was produced (SHA-256 %s, recorded %s): not handed over; run registro verify", path, got, want)
		}
		files[path] = b
	}
	switch h := p.Handover; {
	case h.HandoverDir != "":
		dst := filepath.Join(h.HandoverDir, day.Format("2006"))
		for _, src := range []string{csvPath, jsonPath} {
			target := filepath.Join(dst, filepath.Base(src))
			if old, err := os.ReadFile(target); err == nil {
				if bytes.Equal(old, files[src]) {
					continue // handed over before a crash: already there
				}
				return "", fmt.Errorf("conservation already holds a different %s: nothing is overwritten there", target)
			}
			if err := durable.WriteFile(target, files[src], 0o600); err != nil {
				return "", err
			}
		}
		return dst, nil
	case len(h.HandoverCommand) > 0:
		ctx, cancel := context.WithTimeout(ctx, handoverTimeout)
		defer cancel()
		p.Heart.Wait(handoverTimeout) // the command may take that long: alive all the same
		cmd := exec.CommandContext(ctx, h.HandoverCommand[0], append(h.HandoverCommand[1:], csvPath, jsonPath)...)
		cmd.Env = append(os.Environ(), "GATEWAYD_REGISTER_DAY="+day.Format(time.DateOnly))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(out.String())
			if len(msg) > 500 {
				msg = msg[:500] + "…"
			}
			return "", fmt.Errorf("%s: %w: %s", h.HandoverCommand[0], err, msg)
		}
		return h.HandoverCommand[0], nil
	}
	return "kept in " + filepath.Dir(csvPath) + " (no handover configured)", nil
}

// Late lists the days whose handover failed past the working day after
// them (conservation's deadline): health reports them.
func Late(days []store.RegisterDay, nextWorkday func(time.Time) time.Time, now time.Time) []store.RegisterDay {
	var late []store.RegisterDay
	for _, d := range days {
		if d.HandedAt.IsZero() && !now.Before(nextWorkday(d.Day).AddDate(0, 0, 1)) {
			late = append(late, d)
		}
	}
	return late
}
