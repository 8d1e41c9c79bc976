package report_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/rules"
	"gatewayd/internal/store"
	"gatewayd/internal/testenv/gateway"
	"gatewayd/internal/triage"
)

// office is a real store of the Ferrara office, filled through the
// store's own API (Ingest, Update with its case transitions, the outbox's
// attempts) on a settable clock, the way intake, the Sent watcher, the
// scheduler and the outbox fill it.
type office struct {
	t     *testing.T
	dir   string
	s     *store.Store
	clk   *clock.Settable
	rules *rules.Rules
	uid   uint32
}

// boxes are the configured names of the Ferrara mailboxes the tests use.
var boxes = map[string]string{
	"gestione-credito":  "GestioneCredito.Ferrara@inps.it",
	"anagrafica-flussi": "AnagraficaFlussi.Ferrara@inps.it",
	"pec":               "direzione.provinciale.ferrara@postacert.inps.gov.it",
}

func newOffice(t *testing.T) *office {
	t.Helper()
	r, err := rules.Load(filepath.Join(gateway.Root(), "rules", "ferrara"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := protocol.Parse(protocol.DefaultFormat)
	clk := clock.NewSettable(rome(2026, 11, 1, 9, 0))
	dir := t.TempDir()
	s, err := store.Open(context.Background(), store.Options{StateDir: dir, Office: "FE", Format: f, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &office{t: t, dir: dir, s: s, clk: clk, rules: r}
}

func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, clock.Rome)
}

// receive records one message decided d, received (INTERNALDATE and the
// clock) at at; an accepted one opens its case as intake does.
func (o *office) receive(mailbox string, at time.Time, d triage.Decision, problem *mailparse.Problem) store.Result {
	o.t.Helper()
	o.clk.Set(at)
	o.uid++
	seg, err := o.s.Spool().NewSegment(at)
	if err != nil {
		o.t.Fatal(err)
	}
	defer seg.Close()
	body := fmt.Sprintf("Message-ID: <m%d@example.it>\r\n\r\nbody %d\r\n", o.uid, o.uid)
	w := seg.Begin(0)
	io.Copy(w, bytes.NewReader([]byte(body)))
	it := store.Item{UID: o.uid, InternalDate: at, Size: int64(len(body)), Body: w.Close(), Problem: problem, Decision: d,
		Facts: mailparse.Facts{MessageID: fmt.Sprintf("m%d@example.it", o.uid)}}
	res, err := o.s.Ingest(context.Background(), mailbox, store.Folder{Name: "INBOX", UIDValidity: 1}, seg, []store.Item{it}, func(r store.Result, it store.Item) store.Followup {
		return store.Followup{Case: deadlines.NewCase(o.rules, boxes[mailbox], r, it)}
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return res[0]
}

// accept records an accepted mail and returns its protocol number.
func (o *office) accept(mailbox string, at time.Time, sender string) string {
	o.t.Helper()
	r := o.receive(mailbox, at, triage.Decision{Outcome: triage.Accepted, Sender: sender}, nil)
	if r.Protocol == "" {
		o.t.Fatalf("no protocol for a mail accepted at %s", at)
	}
	return r.Protocol
}

func (o *office) refuse(mailbox string, at time.Time, reasons ...string) {
	o.receive(mailbox, at, triage.Decision{Outcome: triage.Refused, Reasons: reasons, Sender: "x@example.it"}, nil)
}

func (o *office) ignore(mailbox string, at time.Time) {
	o.receive(mailbox, at, triage.Decision{Outcome: triage.Ignored, Reasons: []string{"automatic"}}, nil)
}

func (o *office) quarantine(mailbox string, at time.Time) {
	o.receive(mailbox, at, triage.Decision{}, &mailparse.Problem{Reason: "no-message-id"})
}

func (o *office) followUp(mailbox string, at time.Time, protocol string) {
	o.receive(mailbox, at, triage.Decision{Outcome: triage.Accepted, FollowsUp: protocol, Sender: "y@example.it"}, nil)
}

// update runs f on a case in a transaction at the clock's time at.
func (o *office) update(at time.Time, protocol string, f func(ctx context.Context, tx *store.Tx, c store.Case) error) {
	o.t.Helper()
	o.clk.Set(at)
	err := o.s.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.CaseByProtocol(ctx, protocol)
		if err != nil {
			return err
		}
		return f(ctx, tx, c)
	})
	if err != nil {
		o.t.Fatal(err)
	}
}

// reply closes a case as the Sent watcher does: a reply filed at at.
func (o *office) reply(protocol string, at time.Time) {
	o.update(at.Add(time.Minute), protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		return tx.Close(ctx, c, store.CaseAnswered, store.OutcomeAnswered, at, map[string]any{"by": "test"})
	})
}

// close closes a case as an operator does (gatewayd case close).
func (o *office) close(protocol, outcome string, at time.Time) {
	o.update(at, protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		return tx.Close(ctx, c, store.CaseClosed, outcome, at, map[string]any{"by": "operator"})
	})
}

// step takes a level of the case's ladder at at, as the scheduler does,
// with its mail; sent: the SMTP server then accepts it.
func (o *office) step(protocol, level string, at time.Time, sent bool) {
	o.t.Helper()
	o.update(at, protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		mail := &store.Mail{Mailbox: c.Mailbox, Kind: level, MessageID: fmt.Sprintf("%s.%s@inps.it", protocol, level),
			From: c.Address, To: "responsabile@inps.it", Raw: []byte("Subject: " + level + "\r\n\r\n."), State: store.OutQueued}
		return tx.TakeStep(ctx, c, level, clock.Day(at), false, mail, time.Time{})
	})
	if !sent {
		return
	}
	items, err := o.s.Outbox(context.Background(), store.OutQueued, 1)
	if err != nil || len(items) != 1 {
		o.t.Fatalf("the step's mail is not queued: %v %v", items, err)
	}
	o.clk.Set(at.Add(2 * time.Minute))
	if err := o.s.EndAttempt(context.Background(), items[0], store.OutSent, ""); err != nil {
		o.t.Fatal(err)
	}
}

// lateRound puts a case on the professional on asked, and records the
// professional's term passing on due (the level skipped, as when the
// daemon was down: a late round all the same).
func (o *office) lateRound(protocol string, asked, due time.Time) {
	ladder := "attesa@" + asked.Format(time.DateOnly)
	o.update(asked, protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		return tx.Transition(ctx, c, store.CaseWaiting, ladder, asked, time.Time{}, map[string]any{"by": "test"})
	})
	o.update(due, protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		return tx.TakeStep(ctx, c, "sollecito-professionista", due, true, nil, time.Time{})
	})
}

// annul annuls a registration through the store, at at.
func (o *office) annul(protocol string, at time.Time) {
	o.t.Helper()
	o.update(at, protocol, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		_, err := tx.Annul(ctx, protocol, "operator", "duplicate", "n. 1/2026")
		return err
	})
}

// shadowNumber records an accepted message numbered in shadow mode's
// register: a message row and its protocols row.
func (o *office) shadowNumber(mailbox string, at time.Time) {
	o.t.Helper()
	db := o.s.DB()
	stamp := at.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	res, err := db.Exec(`INSERT INTO messages (sha256, spool_segment, spool_offset, size, stored_size, message_id, mailbox,
		received_at, recorded_at, outcome) SELECT 'shadow', spool_segment, 0, 1, 1, 'shadow@example.it', ?, ?, ?, 'accepted'
		FROM messages LIMIT 1`, mailbox, stamp, stamp)
	if err != nil {
		o.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Exec(`INSERT INTO protocols (office, register, year, number, label, message, assigned_at)
		VALUES ('FE', 'shadow', 2026, 9001, 'SHADOW.FE.2026.0009001', ?, ?)`, id, stamp); err != nil {
		o.t.Fatal(err)
	}
}
