package daemon_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/daemon"
	"gatewayd/internal/intake"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
	"gatewayd/internal/testenv/gateway"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAndHealth: through Dovecot and the SMTP sink, /metrics counts
// the messages by mailbox, outcome and reason, the numbers, the answers
// and the cases, with no address in any label; /healthz is 200 with the
// mailbox's last sync, and 503 naming the mailbox once Dovecot is gone
// for longer than stale_after.
func TestMetricsAndHealth(t *testing.T) {
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	dovecot.Append(t, srv.Client("gc", "pw"), "INBOX", gateway.GoldenMail(t, "fe-ok-artigiani"), gateway.GoldenMail(t, "fe-invalid-cf"))
	sink := gateway.StartSink(t)
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it", Addr: srv.Addr(),
		User: "gc", Password: "pw", SMTPAddr: sink.Addr})
	cfg.RulesDir, cfg.HTTP.StaleAfter = gateway.FerraraRules(t), 3*time.Second
	addr := make(chan net.Addr, 1)
	d := &daemon.Daemon{Config: cfg, Log: slog.New(slog.DiscardHandler), HTTPReady: func(a net.Addr) { addr <- a },
		Backoff: intake.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + (<-addr).String()
	db := testenv.OpenDB(t, state)
	gateway.WaitMoved(t, db, 2, 30*time.Second)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, `gatewayd_outbox_mails{state="sent"} 2`), "answers not sent yet"
	})
	code, m := get(t, base+"/metrics")
	for _, want := range []string{
		`gatewayd_messages_total{mailbox="gc",outcome="accepted",reason=""} 1`,
		`gatewayd_messages_total{mailbox="gc",outcome="refused",reason="invalid-codice-fiscale"} 1`,
		`gatewayd_protocol_numbers_total{mailbox="gc"} 1`,
		`gatewayd_cases{state="open"} 1`, `gatewayd_mailbox_connected{mailbox="gc"} 1`, `gatewayd_build_info{`,
		`gatewayd_outbox_oldest_queued_seconds 0`, `gatewayd_register_handover_pending 0`, `go_goroutines`,
	} {
		if code != 200 || !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, "@") {
		t.Errorf("/metrics carries an address:\n%s", m)
	}
	code, h := get(t, base+"/healthz")
	var rep struct {
		Status    string
		Mailboxes []struct {
			Name      string
			Connected bool
			LastSync  time.Time `json:"last_sync"`
		}
	}
	if code != 200 || json.Unmarshal([]byte(h), &rep) != nil || rep.Status != "ok" || len(rep.Mailboxes) != 1 || !rep.Mailboxes[0].Connected ||
		time.Since(rep.Mailboxes[0].LastSync) > time.Minute {
		t.Fatalf("/healthz = %d:\n%s", code, h)
	}
	srv.Stop()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		code, h = get(t, base+"/healthz")
		return code == 503 && strings.Contains(h, "mailbox gc: not synced for"), h
	})
	if _, m := get(t, base+"/metrics"); !strings.Contains(m, `gatewayd_mailbox_connected{mailbox="gc"} 0`) ||
		strings.Contains(m, `gatewayd_imap_reconnects_total{mailbox="gc"} 0`) {
		t.Errorf("/metrics with Dovecot down lacks the failures")
	}
}
