package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatewayd/internal/smtpsink"
	"gatewayd/internal/testenv"
	"gatewayd/internal/testenv/dovecot"
)

// killOffice is the Ferrara GestioneCredito mailbox on a throwaway
// Dovecot, holding total mails from distinct senders that arrived at
// `received` (zero: now), an SMTP sink, the built binary and its configuration: what
// the SIGKILL tests of the outbox and the scheduler share.
type killOffice struct {
	bin, config, state string
	db                 *sql.DB
	sink               *smtpsink.Sink
}

func newKillOffice(t *testing.T, total int, received time.Time, extra string) *killOffice {
	t.Helper()
	srv := dovecot.Start(t, map[string]string{"gc": "pw"})
	c := srv.Client("gc", "pw")
	date := received
	if date.IsZero() {
		date = time.Now()
	}
	for i := 0; i < total; i++ {
		dovecot.AppendAt(t, c, "INBOX", received, []byte(fmt.Sprintf("From: studio%d@example.it\r\nTo: GestioneCredito.Ferrara@inps.it\r\n"+
			"Subject: RSSMRA85T10A562S - Artigiani - richiesta numero %d\r\nMessage-ID: <k%d@kill.test>\r\nDate: %s\r\n\r\ntesto\r\n",
			i, i, i, date.Format(time.RFC1123Z))))
	}
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	rulesDir := t.TempDir()
	os.CopyFS(rulesDir, os.DirFS("../../rules/ferrara"))
	state := t.TempDir()
	cfg := testenv.Config(t, state, testenv.Mailbox{Name: "gc", Address: "GestioneCredito.Ferrara@inps.it",
		Addr: srv.Addr(), User: "gc", Password: "pw", SMTPAddr: sink.Addr, Extra: extra})
	addToConfig(t, cfg.File, fmt.Sprintf("rules_dir: %q\noutbox: {min_backoff: 200ms, max_backoff: 1s}", rulesDir))
	return &killOffice{bin: buildBinary(t), config: cfg.File, state: state, db: testenv.OpenDB(t, state), sink: sink}
}

// checkResends checks the mails the sink received (those keep selects):
// want distinct Message-IDs, and no more extra copies than kills (a copy
// is resent only after a crash, with the same Message-ID).
func (o *killOffice) checkResends(t *testing.T, want, kills int, keep func(*mail.Header) bool) {
	t.Helper()
	perID := map[string]int{}
	for _, m := range o.sink.Messages() {
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if keep(&r.Header) {
			perID[r.Header.Get("Message-Id")]++
		}
	}
	if len(perID) != want {
		t.Errorf("%d distinct mails received, want %d", len(perID), want)
	}
	extra := 0
	for _, n := range perID {
		extra += n - 1
	}
	t.Logf("%d extra copies (resends after a crash), %d kills", extra, kills)
	if extra > kills {
		t.Errorf("%d extra copies after %d kills: a resend without a crash", extra, kills)
	}
}
