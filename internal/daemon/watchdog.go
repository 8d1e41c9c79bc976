package daemon

import (
	"context"
	"strings"
	"time"

	"gatewayd/internal/sdnotify"
	"gatewayd/internal/supervise"
)

// startWatchdog feeds systemd's watchdog (WatchdogSec=, read from
// $WATCHDOG_USEC) while every loop beats in time, until the returned stop
// is called: after the loops have stopped, so that a long shutdown is not
// taken for a hang. Without a watchdog it does nothing.
func (d *Daemon) startWatchdog(ctx context.Context) (stop func()) {
	interval, err := sdnotify.WatchdogInterval()
	if err != nil {
		d.Log.Warn("the systemd watchdog is ignored", "err", err)
	}
	if interval <= 0 {
		return func() {}
	}
	d.Log.Info("feeding the systemd watchdog while every loop beats", "watchdog", interval, "grace", d.grace())
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sup := &supervise.Supervisor{Log: d.Log, Backoff: d.RestartBackoff}
	sup.Go(wctx, "watchdog", func(ctx context.Context, _ *supervise.Heart) { d.feedWatchdog(ctx, interval/2) })
	return func() { cancel(); sup.Wait() }
}

// feedWatchdog sends WATCHDOG=1 every period while no loop is overdue;
// otherwise it logs which loops are and withholds it, so that systemd
// restarts the daemon (and, with WatchdogSignal=SIGABRT, the Go runtime
// writes every goroutine's stack to the journal).
func (d *Daemon) feedWatchdog(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	withheld := ""
	for {
		stale := strings.Join(d.hearts.Stale(), ", ")
		switch {
		case stale == "":
			if err := sdnotify.Notify(sdnotify.Watchdog); err != nil {
				d.Log.Warn("feeding the watchdog", "err", err)
			}
			if withheld != "" {
				d.Log.Info("every loop beats again: the watchdog is fed")
			}
		case stale != withheld:
			d.Log.Error("loops have not beaten in time: the watchdog is not fed, systemd will restart gatewayd",
				"loops", stale, "grace", d.grace())
		}
		withheld = stale
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Daemon) grace() time.Duration {
	if d.hearts.Grace > 0 {
		return d.hearts.Grace
	}
	return supervise.DefaultGrace
}
