package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/daemon"
	"gatewayd/internal/memimap"
	"gatewayd/internal/outbox"
	"gatewayd/internal/panics"
	"gatewayd/internal/smtpsink"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/gateway"
)

// queue is the store's outbox queue with a panic or a hang injected into
// NextAnswer on demand.
type queue struct {
	outbox.Queue
	panics  atomic.Int32  // NextAnswer panics this many more times
	stuck   atomic.Bool   // NextAnswer blocks until release is closed
	hung    chan struct{} // closed when NextAnswer is stuck
	release chan struct{}
	once    sync.Once
}

func (q *queue) NextAnswer(ctx context.Context) (store.OutboxItem, bool, bool, error) {
	if q.panics.Add(-1) >= 0 {
		panic("injected into the outbox")
	}
	if q.stuck.Load() {
		q.once.Do(func() { close(q.hung) })
		<-q.release
	}
	return q.Queue.NextAnswer(ctx)
}

// office is an in-process daemon with the Ferrara rules, one mailbox on
// the in-memory IMAP server and an SMTP sink, its outbox queue wrapped.
type office struct {
	d    *daemon.Daemon
	q    *queue
	imap *memimap.Server
	sink *smtpsink.Sink
	logs *testenv.LogBuffer
	http chan net.Addr // where /metrics is served
}

func startOffice(t *testing.T, grace time.Duration) *office {
	t.Helper()
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("gc", "pw"); err != nil {
		t.Fatal(err)
	}
	o := &office{imap: srv, sink: gateway.StartSink(t), logs: &testenv.LogBuffer{}, q: &queue{hung: make(chan struct{}), release: make(chan struct{})},
		http: make(chan net.Addr, 1)}
	cfg := testenv.Config(t, t.TempDir(), testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr,
		User: "gc", Password: "pw", SMTPAddr: o.sink.Addr, Extra: "    sent_folder: Sent\n"})
	cfg.RulesDir = gateway.FerraraRules(t)
	o.d = &daemon.Daemon{Config: cfg, Log: slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff:        backoff.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		OutboxBackoff:  outbox.Backoff{Base: 100 * time.Millisecond, Max: 300 * time.Millisecond},
		RestartBackoff: backoff.Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		HTTPReady:      func(a net.Addr) { o.http <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	if err := o.d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	daemon.WrapQueue(o.d, func(q outbox.Queue) outbox.Queue { o.q.Queue = q; return o.q })
	if grace > 0 {
		daemon.SetGrace(o.d, grace)
	}
	done := make(chan error, 1)
	go func() { done <- o.d.Run(ctx) }()
	t.Cleanup(func() {
		o.q.once.Do(func() { close(o.q.hung) })
		select {
		case <-o.q.release:
		default:
			close(o.q.release)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon stopped with error: %v", err)
		}
	})
	return o
}

// deliver puts a mail the Ferrara rules accept (and answer) into INBOX.
func (o *office) deliver(t *testing.T, id string) {
	t.Helper()
	if err := o.imap.Append("gc", "INBOX", testenv.Message(id, 500)); err != nil {
		t.Fatal(err)
	}
}

// waitAnswers waits until the sink has received n answers.
func (o *office) waitAnswers(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		got := len(o.sink.Messages())
		return got >= n, fmt.Sprintf("%d answers received, want %d; log:\n%s", got, n, o.logs.String())
	})
}

// TestDaemon_panickingOutboxStartsAgain: the outbox's loop panics twice
// (injected into its queue); it is started again, each panic is counted
// and logged with its stack, and the answer still leaves.
func TestDaemon_panickingOutboxStartsAgain(t *testing.T) {
	o := startOffice(t, 0)
	before := panics.ByComponent()["outbox"]
	o.q.panics.Store(2)
	o.deliver(t, "panic-1")
	o.waitAnswers(t, 1)
	if got := panics.ByComponent()["outbox"] - before; got < 2 {
		t.Errorf("outbox panics counted = %d, want at least 2", got)
	}
	_, metrics := get(t, "http://"+(<-o.http).String()+"/metrics")
	if want := fmt.Sprintf("gatewayd_panics_recovered_total %d\n", panics.Count()); !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %q", want)
	}
	log := o.logs.String()
	for _, want := range []string{`level=ERROR msg="panic in a loop: recovered" loop=outbox panic="injected into the outbox"`,
		"daemon_test.(*queue).NextAnswer", `msg="the loop starts again after a pause" loop=outbox`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestDaemon_watchdogWithheldWhileALoopHangs: the watchdog is fed while
// every loop beats; while the outbox hangs (injected into its queue) it is
// not, and the log names the loop; once released it is fed again.
func TestDaemon_watchdogWithheldWhileALoopHangs(t *testing.T) {
	pings := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "100000") // pinged every 50 ms
	o := startOffice(t, time.Second)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return pings.Count("WATCHDOG=1") >= 2, "no WATCHDOG=1 received"
	})
	o.q.stuck.Store(true)
	o.deliver(t, "hang-1") // wakes the outbox, whose queue now hangs
	<-o.q.hung
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(o.logs.String(), `msg="loops have not beaten in time: the watchdog is not fed, systemd will restart gatewayd" loops=outbox`),
			"the hung outbox was not reported:\n" + o.logs.String()
	})
	o.q.stuck.Store(false)
	close(o.q.release)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(o.logs.String(), "every loop beats again: the watchdog is fed"), "the watchdog was not fed again"
	})
	n := pings.Count("WATCHDOG=1")
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return pings.Count("WATCHDOG=1") > n, "no WATCHDOG=1 after the outbox came back"
	})
	o.waitAnswers(t, 1)
}

// listenNotify sets NOTIFY_SOCKET to a socket of the test's.
func listenNotify(t *testing.T) *testenv.Notifications {
	t.Helper()
	n := testenv.ListenNotify(t)
	t.Setenv("NOTIFY_SOCKET", n.Socket)
	return n
}
