// Command latency measures how long a mail waits between its arrival in
// the watched folder and gatewayd's decision on it, under a steady stream.
//
//	go run ./bench/latency            # -rate 20 (mails/s), -duration 60s, -keep
//
// It starts its own Dovecot and first measures what Dovecot alone adds: a
// minimal client IDLEs on a folder while mails are APPENDed to it one at a
// time (Dovecot announces a change up to 0.5 s after it sees it:
// NOTIFY_DELAY_MSECS in its src/lib-storage/mailbox-watch.c). Then it
// starts the built gatewayd binary on one mailbox (IDLE, as Dovecot
// advertises it; no rules_dir, so every well-formed mail is accepted),
// waits for a first mail to be recorded, and APPENDs realistic small mails
// at the given rate from another connection. Per mail, matched by
// Message-ID, the latency runs from the APPEND's completion to the
// decision's recorded_at in the store (the transaction's time; the commit
// follows within milliseconds, and the bench also notes when each row
// became visible, polling every 20 ms). It prints the count and the rate
// achieved, the batches, and last:
//
//	p50_ms=… p99_ms=… max_ms=…
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"gatewayd/bench/internal/harness"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

func main() {
	rate := flag.Float64("rate", 20, "mails per second")
	duration := flag.Duration("duration", 60*time.Second, "how long the stream lasts")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.Parse()
	if *rate <= 0 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -rate and -duration must be positive")
		os.Exit(2)
	}
	h := harness.New("gatewayd-latency-", *keep)
	if err := run(h, *rate, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		h.Close()
		os.Exit(1)
	}
	h.Close()
}

const user, password = "latency", "latency"

func run(h *harness.H, rate float64, duration time.Duration) error {
	srv := dovecot.Start(h, map[string]string{user: password})
	ref, err := idleDelay(srv.Addr(), srv.Client(user, password), 10)
	if err != nil {
		return fmt.Errorf("measuring IDLE alone: %w", err)
	}
	fmt.Printf("Dovecot's IDLE alone, %d mails one at a time: EXISTS p50 %.0f ms, max %.0f ms after the APPEND\n",
		len(ref), pct(ref, 0.5), pct(ref, 1))
	bin := filepath.Join(h.Dir, "gatewayd")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gatewayd").CombinedOutput(); err != nil {
		return fmt.Errorf("building gatewayd: %v\n%s", err, out)
	}
	state := filepath.Join(h.Dir, "state")
	cfg := testenv.Config(h, state, testenv.Mailbox{Name: "credito", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: user, Password: password, PollInterval: "1m"})
	logPath := filepath.Join(h.Dir, "gatewayd.log")
	d, err := startDaemon(bin, cfg.File, logPath)
	if err != nil {
		return err
	}
	defer d.stop()
	db := h.DB(state)
	c := srv.Client(user, password)
	tag := fmt.Sprint(time.Now().Unix()) // Message-IDs unique to this run
	// A first mail, not counted: the daemon is connected, has made its
	// folders and is waiting in IDLE once it is recorded.
	if err := appendMail(c, warmup(tag)); err != nil {
		return fmt.Errorf("appending the first mail: %w", err)
	}
	if err := d.waitRecorded(db, 1, time.Minute, logPath); err != nil {
		return err
	}
	time.Sleep(time.Second)
	n := int(rate * duration.Seconds())
	if n < 2 {
		return fmt.Errorf("-rate %v for %v makes %d mails: at least 2 are needed", rate, duration, n)
	}
	p := startPoller(db)
	arrivals, err := stream(c, tag, n, rate)
	if err != nil {
		p.stop()
		return err
	}
	werr := d.waitRecorded(db, n+1, 30*time.Second, logPath)
	seen := p.stop()
	if werr != nil {
		return werr
	}
	return report(db, arrivals, seen, logPath)
}

// warmup is the first mail, sent before the stream.
func warmup(run string) []byte {
	return testenv.Message("warmup-"+run, 2000)
}

// daemon is the running binary.
type daemon struct {
	cmd    *exec.Cmd
	exited chan error
}

func startDaemon(bin, config, logPath string) (*daemon, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	d := &daemon{cmd: cmd, exited: make(chan error, 1)}
	go func() { d.exited <- cmd.Wait(); logf.Close() }()
	return d, nil
}

// stop sends SIGTERM and waits, killing after 30 s.
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// waitRecorded waits until the store holds n messages.
func (d *daemon) waitRecorded(db dbQuerier, n int, timeout time.Duration, logPath string) error {
	deadline := time.Now().Add(timeout)
	for {
		var got int
		err := db.QueryRow(`SELECT count(*) FROM messages`).Scan(&got)
		if err == nil && got >= n {
			return nil
		}
		select {
		case err := <-d.exited:
			return fmt.Errorf("gatewayd exited (%v); log: %s", err, logPath)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d mails recorded after %v (log: %s)", got, n, timeout, logPath)
		}
	}
}
