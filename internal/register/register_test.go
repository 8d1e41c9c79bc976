package register_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/protocol"
	"gatewayd/internal/register"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

var update = flag.Bool("update", false, "rewrite the golden register files")

// office is a store on a settable clock with a producer.
type office struct {
	t     *testing.T
	dir   string
	clock *clock.Settable
	st    *store.Store
	p     *register.Producer
	uid   uint32
}

func newOffice(t *testing.T, start time.Time, shadow bool) *office {
	t.Helper()
	o := &office{t: t, dir: t.TempDir(), clock: clock.NewSettable(start)}
	f, _ := protocol.Parse(protocol.DefaultFormat)
	st, err := store.Open(context.Background(), store.Options{StateDir: o.dir, Office: "FE", Format: f, Now: o.clock.Now, Shadow: shadow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o.st = st
	o.p = &register.Producer{Store: st, StateDir: o.dir, Now: o.clock.Now, Log: slog.New(slog.DiscardHandler), Producer: "gatewayd test",
		Office: func() register.Office {
			return register.Office{Name: "Direzione provinciale INPS di Ferrara", Code: "FE", AOO: "INPS-AOO-FE"}
		}}
	return o
}

// receive records one accepted message at the clock's time.
func (o *office) receive(sender, subject string, pec bool) string {
	o.t.Helper()
	o.uid++
	seg, err := o.st.Spool().NewSegment(o.clock.Now())
	if err != nil {
		o.t.Fatal(err)
	}
	defer seg.Close()
	body := "From: " + sender + "\r\nSubject: " + subject + "\r\n\r\nuid " + string(rune('a'+o.uid)) + "\r\n"
	w := seg.Begin(0)
	io.WriteString(w, body)
	d := triage.Decision{Outcome: triage.Accepted, Reasons: []string{}, Sender: sender, Subject: subject}
	if pec {
		d.OriginalDate, d.OriginalID = "Mon, 16 Nov 2026 09:58:00 +0100", "orig-"+subject+"@studio.example.it"
		d.PEC = &triage.PECInfo{Envelope: true, Kind: "posta-certificata", Signature: "valid", Identificativo: "opec210312.20261116095800.1234.1.1@pec.aruba.it"}
	}
	it := store.Item{UID: o.uid, InternalDate: o.clock.Now(), Size: int64(len(body)), Body: w.Close(), Decision: d,
		Facts: mailparse.Facts{MessageID: "m" + string(rune('a'+o.uid)) + "@example.it", From: sender, Subject: subject,
			Date: "Mon, 16 Nov 2026 10:00:00 +0100"}}
	res, err := o.st.Ingest(context.Background(), "pec", store.Folder{Name: "INBOX", UIDValidity: 1}, seg, []store.Item{it}, nil)
	if err != nil {
		o.t.Fatal(err)
	}
	return res[0].Protocol
}

func (o *office) update(f func(ctx context.Context, tx *store.Tx) error) {
	o.t.Helper()
	if err := o.st.Update(context.Background(), f); err != nil {
		o.t.Fatal(err)
	}
}

func at(day, hm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, clock.Rome)
	if err != nil {
		panic(err)
	}
	return t
}

// TestRegistration_fixed: a registration holds the law's fields, taken
// for a PEC from the signed content, and no UPDATE or DELETE touches it,
// nor its annulment or amendment.
func TestRegistration_fixed(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "10:00"), false)
	label := o.receive("studio@pec.example.it", "RSSMRA85T10A562S - artigiani - sgravio", true)
	if label != "INPS.FE.2026.0000001" {
		t.Fatalf("label = %q", label)
	}
	var r store.Registration
	o.update(func(ctx context.Context, tx *store.Tx) error {
		var err error
		r, err = tx.Registration(ctx, label)
		return err
	})
	want := store.Registration{Label: label, Register: store.RegisterLive, Year: 2026, Number: 1, Mailbox: "pec",
		Sender: "studio@pec.example.it", Subject: "RSSMRA85T10A562S - artigiani - sgravio", SenderDate: "Mon, 16 Nov 2026 09:58:00 +0100",
		SenderRef: "opec210312.20261116095800.1234.1.1@pec.aruba.it"}
	if r.Label != want.Label || r.Register != want.Register || r.Year != want.Year || r.Number != want.Number || r.Mailbox != want.Mailbox ||
		r.Sender != want.Sender || r.Subject != want.Subject || r.SenderDate != want.SenderDate || r.SenderRef != want.SenderRef ||
		len(r.SHA256) != 64 || !r.At.Equal(at("2026-11-16", "10:00")) {
		t.Fatalf("registration = %+v", r)
	}
	o.update(func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Annul(ctx, label, "mrossi", "duplicata", "disposizione n. 1/2026")
		return err
	})
	db := o.st.DB()
	for _, q := range []string{
		`UPDATE protocols SET subject = 'altro' WHERE label = 'INPS.FE.2026.0000001'`,
		`UPDATE protocols SET sha256 = '00' WHERE label = 'INPS.FE.2026.0000001'`,
		`DELETE FROM protocols`,
		`UPDATE annulments SET reason = 'altro'`,
		`DELETE FROM annulments`,
		`UPDATE protocol_counters SET last = 0`, // allowed: but checked below that numbering still goes on
	} {
		_, err := db.Exec(q)
		if strings.HasPrefix(q, "UPDATE protocol_counters") {
			continue
		}
		if err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	// A number is never given twice, even with the counter rewound by hand.
	if _, err := o.st.DB().Exec(`INSERT INTO protocols (office, register, year, number, label, message, assigned_at) VALUES ('FE', 'protocollo', 2026, 1, 'INPS.FE.2026.0000001', 1, 'x')`); err == nil {
		t.Error("a number given twice")
	}
}

// TestNumbering_shadowAndStart: shadow mode numbers from its own sequence,
// labelled SHADOW; going live starts at 1, or at the number the operator
// gives, refused once the year's register has started.
func TestNumbering_shadowAndStart(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "10:00"), true)
	if l := o.receive("a@example.it", "uno", false); l != "SHADOW.FE.2026.0000001" {
		t.Fatalf("shadow label = %q", l)
	}
	if l := o.receive("a@example.it", "due", false); l != "SHADOW.FE.2026.0000002" {
		t.Fatalf("shadow label = %q", l)
	}
	o.st.Close()
	f, _ := protocol.Parse(protocol.DefaultFormat)
	live, err := store.Open(context.Background(), store.Options{StateDir: o.dir, Office: "FE", Format: f, Now: o.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	o.st, o.p.Store = live, live
	defer live.Close()
	o.clock.Advance(time.Minute)
	o.update(func(ctx context.Context, tx *store.Tx) error { return tx.StartAt(ctx, "FE", 4213) })
	if l := o.receive("a@example.it", "tre", false); l != "INPS.FE.2026.0004213" {
		t.Fatalf("first live label = %q", l)
	}
	err = live.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error { return tx.StartAt(ctx, "FE", 1) })
	if err == nil || !strings.Contains(err.Error(), "already given") {
		t.Fatalf("StartAt after a live number = %v", err)
	}
	// The shadow numbers stay out of the daily register.
	o.clock.Set(at("2026-11-17", "00:10"))
	if _, err := o.p.Produce(context.Background()); err != nil {
		t.Fatal(err)
	}
	csvPath, _ := register.Paths(o.dir, at("2026-11-16", "00:00"))
	b, _ := os.ReadFile(csvPath)
	if bytes.Contains(b, []byte("SHADOW")) || !bytes.Contains(b, []byte("INPS.FE.2026.0004213")) {
		t.Fatalf("register:\n%s", b)
	}
}

// fillTwoDays: three registrations on Monday; on Tuesday one more, an
// annulment of Monday's first and an amendment of Monday's second.
func fillTwoDays(o *office) {
	o.clock.Set(at("2026-11-16", "09:15"))
	first := o.receive("studio.bianchi@pec.example.it", "BNCLRA70A41D548X - commercianti - rateazione", true)
	o.clock.Set(at("2026-11-16", "11:40"))
	second := o.receive("paghe@example.it", "RSSMRA85T10A562S - artigiani - sgravio", false)
	o.clock.Set(at("2026-11-16", "16:05"))
	o.receive("caf@example.it", "VRDGPP60C12F205Z - gestione separata - estratto conto", false)
	o.clock.Set(at("2026-11-17", "08:50"))
	o.receive("consulente@pec.example.it", "84000190386 - aziende con dipendenti - DURC, \"urgente\"", true)
	o.clock.Set(at("2026-11-17", "10:30"))
	o.update(func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Annul(ctx, first, "mrossi", "registrazione duplicata", "disposizione del dirigente n. 12/2026")
		return err
	})
	o.clock.Set(at("2026-11-17", "12:00"))
	o.update(func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Amend(ctx, second, "subject", "RSSMRA85T10A562S - artigiani - sgravio avviso 123/2025", "lverdi", "oggetto incompleto")
		return err
	})
}

// TestDailyRegister_golden: each day's CSV holds the day's registrations
// and the annulments and amendments made that day; its JSON twin chains
// to the day before.
func TestDailyRegister_golden(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	o.clock.Set(at("2026-11-18", "00:01"))
	days, err := o.p.Produce(context.Background())
	if err != nil || len(days) != 2 {
		t.Fatalf("Produce() = %v, %v", days, err)
	}
	for _, day := range []string{"2026-11-16", "2026-11-17"} {
		csvPath, jsonPath := register.Paths(o.dir, at(day, "00:00"))
		got, err := os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", day+".csv")
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		want, _ := os.ReadFile(golden)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", csvPath, golden, got)
		}
		for _, p := range []string{csvPath, jsonPath, filepath.Dir(csvPath)} {
			st, _ := os.Stat(p)
			if perm := st.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s is %v: others can read it", p, perm)
			}
		}
	}
	_, j1 := register.Paths(o.dir, at("2026-11-16", "00:00"))
	_, j2 := register.Paths(o.dir, at("2026-11-17", "00:00"))
	b1, _ := os.ReadFile(j1)
	b2, _ := os.ReadFile(j2)
	for _, want := range []string{`"previous_day": "2026-11-16"`, `"count": 1`, `"annulments": 1`, `"amendments": 1`, `"aoo": "INPS-AOO-FE"`,
		`"first": "INPS.FE.2026.0000004"`, `"previous_sha256": "` + sha(b1) + `"`} {
		if !bytes.Contains(b2, []byte(want)) {
			t.Errorf("%s lacks %s:\n%s", j2, want, b2)
		}
	}
	if !bytes.Contains(b1, []byte(`"previous_sha256": ""`)) || !bytes.Contains(b1, []byte(`"count": 3`)) {
		t.Errorf("first day's metadata:\n%s", b1)
	}
	// Nothing more to do the same day; the next day's register is empty.
	if days, _ := o.p.Produce(context.Background()); len(days) != 0 {
		t.Errorf("produced again: %v", days)
	}
}

// TestDailyRegister_missedDays: days that passed while the daemon was
// down are produced at start, oldest first, empty ones too.
func TestDailyRegister_missedDays(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	o.clock.Set(at("2026-11-21", "15:00")) // Saturday: Wednesday to Friday also missed
	days, err := o.p.Produce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range days {
		got = append(got, d.Format(time.DateOnly))
	}
	if strings.Join(got, " ") != "2026-11-16 2026-11-17 2026-11-18 2026-11-19 2026-11-20" {
		t.Fatalf("produced %v", got)
	}
	_, j := register.Paths(o.dir, at("2026-11-19", "00:00"))
	if b, _ := os.ReadFile(j); !bytes.Contains(b, []byte(`"count": 0`)) || !bytes.Contains(b, []byte(`"previous_day": "2026-11-18"`)) {
		t.Errorf("empty day:\n%s", b)
	}
}

// TestVerify: the chain and the fingerprints hold; a changed byte in a
// register file, a changed spool byte and a deleted row each break it,
// naming the first broken day.
func TestVerify(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	o.clock.Set(at("2026-11-19", "00:01"))
	if _, err := o.p.Produce(context.Background()); err != nil {
		t.Fatal(err)
	}
	verify := func() error {
		rd, err := store.OpenReader(o.dir)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		v, err := register.Verify(context.Background(), rd, o.dir, time.Time{})
		if err == nil && (v.Days != 3 || v.Fingerprints != 4) {
			t.Fatalf("verified %+v", v)
		}
		return err
	}
	if err := verify(); err != nil {
		t.Fatalf("intact register: %v", err)
	}
	brokenOn := func(what, day string) {
		t.Helper()
		err := verify()
		var b *register.BrokenError
		if !errors.As(err, &b) || b.Day.Format(time.DateOnly) != day {
			t.Fatalf("%s: Verify() = %v, want broken on %s", what, err, day)
		}
	}
	// A changed byte in the second day's CSV.
	csv2, _ := register.Paths(o.dir, at("2026-11-17", "00:00"))
	orig, _ := os.ReadFile(csv2)
	os.WriteFile(csv2, bytes.Replace(orig, []byte("lverdi"), []byte("lverdI"), 1), 0o600)
	brokenOn("csv byte", "2026-11-17")
	os.WriteFile(csv2, orig, 0o600)
	// A changed byte in a registered message's spool bytes.
	var seg string
	var off int64
	o.st.DB().QueryRow(`SELECT m.spool_segment, m.spool_offset FROM messages m JOIN protocols p ON p.message = m.id
		WHERE p.number = 3`).Scan(&seg, &off)
	segPath := filepath.Join(o.dir, "spool", seg)
	sb, _ := os.ReadFile(segPath)
	changed := append([]byte{}, sb...)
	changed[off+2] ^= 0x20
	os.WriteFile(segPath, changed, 0o600)
	brokenOn("spool byte", "2026-11-16")
	os.WriteFile(segPath, sb, 0o600)
	if err := verify(); err != nil {
		t.Fatalf("restored: %v", err)
	}
	// A deleted row: whoever drops the trigger to delete an amendment.
	db := o.st.DB()
	if _, err := db.Exec(`DROP TRIGGER amendments_kept`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM amendments`); err != nil {
		t.Fatal(err)
	}
	brokenOn("deleted row", "2026-11-17")
}

// TestHandover: a failing handover command is recorded and retried after
// its wait; once it succeeds the day is handed over, in order.
func TestHandover(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	marker := filepath.Join(t.TempDir(), "down")
	os.WriteFile(marker, nil, 0o600)
	got := filepath.Join(t.TempDir(), "received")
	script := filepath.Join(t.TempDir(), "conserva.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nif [ -e "+marker+" ]; then echo 'conservation service unreachable' >&2; exit 3; fi\n"+
		"echo \"$GATEWAYD_REGISTER_DAY $(basename $1) $(basename $2)\" >> "+got+"\n"), 0o700)
	o.p.Handover = config.Register{HandoverCommand: []string{script}}
	o.clock.Set(at("2026-11-18", "00:01"))
	ctx := context.Background()
	if _, err := o.p.Produce(ctx); err != nil {
		t.Fatal(err)
	}
	o.p.HandOver(ctx)
	days, _ := o.st.RegisterDays(ctx)
	if days[0].Attempts != 1 || !days[0].HandedAt.IsZero() || !strings.Contains(days[0].LastError, "conservation service unreachable") ||
		days[1].Attempts != 0 {
		t.Fatalf("after a failure: %+v", days)
	}
	os.Remove(marker)
	o.p.HandOver(ctx) // the retry is not due yet
	if b, _ := os.ReadFile(got); len(b) != 0 {
		t.Fatalf("handed over before the retry was due: %s", b)
	}
	o.clock.Set(at("2026-11-18", "00:03"))
	o.p.HandOver(ctx)
	b, _ := os.ReadFile(got)
	if string(b) != "2026-11-16 2026-11-16.csv 2026-11-16.json\n2026-11-17 2026-11-17.csv 2026-11-17.json\n" {
		t.Fatalf("handed over:\n%s", b)
	}
	days, _ = o.st.RegisterDays(ctx)
	if days[0].HandedAt.IsZero() || days[1].HandedAt.IsZero() || days[0].LastError != "" {
		t.Fatalf("after success: %+v", days)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestRegister_closedDays: once a day's register is produced, a clock
// stepped back cannot register, annul or amend on it; a shadow number is
// neither annulled nor amended.
func TestRegister_closedDays(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	o.clock.Set(at("2026-11-18", "00:01"))
	if _, err := o.p.Produce(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.clock.Set(at("2026-11-17", "23:00")) // the clock stepped back
	seg, _ := o.st.Spool().NewSegment(o.clock.Now())
	w := seg.Begin(0)
	io.WriteString(w, "Subject: late\r\n\r\nx\r\n")
	_, err := o.st.Ingest(context.Background(), "pec", store.Folder{Name: "INBOX", UIDValidity: 1}, seg, []store.Item{{UID: 99, InternalDate: o.clock.Now(), Body: w.Close(),
		Decision: triage.Decision{Outcome: triage.Accepted}, Facts: mailparse.Facts{MessageID: "late@x"}}}, nil)
	seg.Close()
	if err == nil || !strings.Contains(err.Error(), "already produced") {
		t.Fatalf("registering on a produced day: %v", err)
	}
	err = o.st.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Annul(ctx, "INPS.FE.2026.0000003", "x", "y", "z")
		return err
	})
	if err == nil {
		t.Fatal("annulled on a produced day")
	}
	s := newOffice(t, at("2026-11-16", "09:00"), true)
	label := s.receive("a@example.it", "prova", false)
	err = s.st.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Annul(ctx, label, "x", "y", "z")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "shadow-mode number") {
		t.Fatalf("annulling %s: %v", label, err)
	}
}

// TestVerify_behindTheStore: bytes marked purged without a recorded purge,
// and a registration inserted before the first daily register, break
// the verification.
func TestVerify_behindTheStore(t *testing.T) {
	o := newOffice(t, at("2026-11-16", "09:00"), false)
	fillTwoDays(o)
	o.clock.Set(at("2026-11-18", "00:01"))
	if _, err := o.p.Produce(context.Background()); err != nil {
		t.Fatal(err)
	}
	verify := func() error {
		rd, _ := store.OpenReader(o.dir)
		defer rd.Close()
		_, err := register.Verify(context.Background(), rd, o.dir, time.Time{})
		return err
	}
	db := o.st.DB()
	var seg string
	var off int64
	db.QueryRow(`SELECT spool_segment, spool_offset FROM messages WHERE id = 2`).Scan(&seg, &off)
	db.Exec(`UPDATE messages SET spool_segment = '', purged_at = '2026-11-17T00:00:00Z' WHERE id = 2`)
	if err := verify(); err == nil || !strings.Contains(err.Error(), "no purge was recorded") {
		t.Fatalf("bytes removed behind the store: %v", err)
	}
	db.Exec(`UPDATE messages SET spool_segment = ?, spool_offset = ?, purged_at = '' WHERE id = 2`, seg, off)
	if _, err := db.Exec(`INSERT INTO messages (id, sha256, spool_segment, spool_offset, size, stored_size, mailbox, received_at, recorded_at, outcome)
		VALUES (99, 'x', '', 0, 1, 1, 'pec', '2026-11-10T10:00:00Z', '2026-11-10T10:00:00Z', 'accepted')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO protocols (office, register, year, number, label, message, assigned_at) VALUES
		('FE', 'protocollo', 2026, 99, 'INPS.FE.2026.0000099', 99, '2026-11-10T10:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := verify(); err == nil || !strings.Contains(err.Error(), "precedes the first daily register") {
		t.Fatalf("a registration before the first day: %v", err)
	}
}

// TestRun_retriesAFailedProduction: a daily register that cannot be
// written (here registro/ is a file in the way) is produced again after a
// backoff, not at the next midnight, once the cause is gone.
func TestRun_retriesAFailedProduction(t *testing.T) {
	defer register.SetRetryForTest(backoff.Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond})()
	o := newOffice(t, at("2026-11-16", "10:00"), false)
	o.receive("studio@bianchi.it", "RSSMRA85T10A562S - artigiani - richiesta", false)
	in := filepath.Join(o.dir, "registro")
	if err := os.WriteFile(in, []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.clock.Set(at("2026-11-17", "10:00"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond) // failing, retried
	if days, _ := o.st.RegisterDays(ctx); len(days) != 0 {
		t.Fatalf("%d days produced with registro/ in the way", len(days))
	}
	if st, _ := o.st.Stats(ctx); !st.NextToProduce.Equal(at("2026-11-16", "00:00")) {
		t.Errorf("next day to produce %v, want 2026-11-16 (for /healthz)", st.NextToProduce)
	}
	os.Remove(in)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if days, _ := o.st.RegisterDays(ctx); len(days) == 1 {
			if st, _ := o.st.Stats(ctx); !st.NextToProduce.Equal(at("2026-11-17", "00:00")) {
				t.Errorf("next day to produce %v, want 2026-11-17", st.NextToProduce)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the day's register was not produced again within 5 s of the cause going")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
