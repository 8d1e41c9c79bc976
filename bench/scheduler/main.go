// Command scheduler measures a deadlines pass on a large store: it fills
// a fresh state directory with -cases open cases, -due of them due now,
// and times (a) finding the due cases through the index (pass_ms, the
// target: at most 100 ms) and (b) taking their steps, each recorded and
// its mail composed and enqueued (enqueue_ms). Last line:
//
//	open_cases=… due=… pass_ms=… enqueue_ms=…
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/answer"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/protocol"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
)

func main() {
	n := flag.Int("cases", 1_000_000, "open cases in the store")
	due := flag.Int("due", 10_000, "of which due at the pass")
	keep := flag.Bool("keep", false, "keep the state directory")
	flag.Parse()
	h := harness.New("gatewayd-bench-scheduler-", *keep)
	defer h.Close()
	if err := run(h.Dir, *n, *due); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		os.Exit(1)
	}
}

func run(dir string, n, due int) error {
	ctx := context.Background()
	r, err := rules.Load(filepath.Join(root(), "rules", "ferrara"))
	if err != nil {
		return err
	}
	tpl, err := answer.Load(os.DirFS(r.Dir), "templates", filepath.Join(r.Dir, "templates"), r.LadderTemplates()...)
	if err != nil {
		return err
	}
	now := time.Date(2026, 12, 9, 8, 30, 0, 0, clock.Rome) // a Wednesday, the sollecito's day
	format, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(ctx, store.Options{StateDir: filepath.Join(dir, "state"), Office: "FE", Format: format,
		Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	if err := fill(ctx, st, n, due, now); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "filled %d cases (%d due) in %s\n", n, due, time.Since(t0).Round(time.Millisecond))
	cfg := &config.Config{Mailboxes: []config.Mailbox{{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it",
		SMTP: &config.SMTP{From: "GestioneCredito.Ferrara@inps.it"}}}}
	t1 := time.Now()
	found, err := st.DueCases(ctx, now, due)
	if err != nil {
		return err
	}
	passMS := time.Since(t1).Milliseconds()
	sched := &deadlines.Scheduler{Store: st, Office: func() *answer.Office { return &answer.Office{Rules: r, Templates: tpl} },
		Config: cfg, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	t2 := time.Now()
	res, err := sched.Pass(ctx)
	if err != nil {
		return err
	}
	enqueueMS := time.Since(t2).Milliseconds()
	fmt.Fprintf(os.Stderr, "found %d due cases through the index; the pass took %d steps\n", len(found), res.Taken)
	fmt.Printf("open_cases=%d due=%d pass_ms=%d enqueue_ms=%d\n", n, res.Due, passMS, enqueueMS)
	return nil
}

func root() string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return wd
}
