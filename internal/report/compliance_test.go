package report_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gatewayd/internal/report"
	"gatewayd/internal/store"
)

// scenario fills a Ferrara store over three weeks of December 2026 (8
// December a holiday; 7 December, Sant'Ambrogio, is Milan's, not
// Ferrara's). Due dates are the rules' own: 10 working days after D.
func scenario(t *testing.T) *office {
	o := newOffice(t)
	gc, af, pec := "gestione-credito", "anagrafica-flussi", "pec"
	// Week 49 (30 Nov – 6 Dec).
	a := o.accept(gc, rome(2026, 11, 30, 10, 0), "a@studio.it") // D 30 Nov, due 15 Dec
	c := o.accept(gc, rome(2026, 12, 1, 10, 0), "c@studio.it")  // due 16 Dec
	d := o.accept(gc, rome(2026, 12, 2, 10, 0), "d@studio.it")  // due 17 Dec
	b := o.accept(gc, rome(2026, 12, 4, 10, 0), "b@studio.it")  // a Friday; due 21 Dec
	o.refuse(gc, rome(2026, 12, 1, 11, 0), "missing-gestione")
	o.ignore(gc, rome(2026, 12, 5, 9, 0))
	o.reply(a, rome(2026, 12, 4, 11, 0))                        // 4 working days, in time
	m := o.accept(af, rome(2026, 11, 26, 10, 0), "m@studio.it") // before the span; due 11 Dec
	n := o.accept(af, rome(2026, 11, 16, 10, 0), "n@studio.it") // before the span; due 30 Nov
	o.reply(m, rome(2026, 12, 3, 10, 0))                        // 5 working days (27, 30, 1, 2, 3), in time
	o.step(n, "sollecito", rome(2026, 12, 1, 8, 30), true)
	due := o.accept(af, rome(2026, 11, 30, 10, 0), "s@studio.it") // due 15 Dec
	// Week 50 (7 – 13 Dec).
	o.followUp(gc, rome(2026, 12, 7, 9, 0), d)
	o.reply(b, rome(2026, 12, 9, 10, 0)) // 7 and 9 Dec: 2 working days across the weekend and the 8th
	o.refuse(gc, rome(2026, 12, 9, 12, 0), "missing-gestione", "missing-summary")
	e := o.accept(gc, rome(2026, 12, 10, 10, 0), "e@studio.it")
	o.close(e, store.OutcomeWithdrawn, rome(2026, 12, 11, 12, 0)) // closed, no answer
	o.refuse(gc, rome(2026, 12, 11, 15, 0), "invalid-codice-fiscale")
	o.step(n, "escalation", rome(2026, 12, 10, 8, 30), true)
	q := o.accept(af, rome(2026, 12, 11, 10, 0), "q@studio.it") // due 28 Dec
	// Week 51 (14 – 20 Dec).
	p := o.accept(gc, rome(2026, 12, 14, 9, 0), "p@studio.it")
	l := o.accept(af, rome(2026, 12, 14, 9, 0), "l@studio.it")
	o.reply(l, rome(2026, 12, 14, 16, 0)) // the same day: 0 working days
	o.quarantine(gc, rome(2026, 12, 15, 9, 0))
	o.reply(due, rome(2026, 12, 15, 17, 0)) // on its due date, late in the day: in time, 10 working days
	o.step(c, "sollecito", rome(2026, 12, 17, 8, 30), true)
	o.reply(c, rome(2026, 12, 17, 11, 0))                              // after its due date: late, 11 working days
	o.step(d, "sollecito", rome(2026, 12, 18, 8, 30), false)           // queued, not sent: not counted
	o.close(p, store.OutcomeUnsatisfactory, rome(2026, 12, 18, 15, 0)) // answered, 4 working days
	// After the span.
	o.reply(q, rome(2026, 12, 26, 10, 0))
	// A professional late three times (Ferrara flags at 3), a fourth after the span.
	r1 := o.accept(pec, rome(2026, 11, 2, 10, 0), "Ritardatario@Studio.it")
	r2 := o.accept(pec, rome(2026, 11, 3, 10, 0), "ritardatario@studio.it")
	r3 := o.accept(pec, rome(2026, 11, 4, 10, 0), "ritardatario@studio.it")
	o.lateRound(r1, rome(2026, 11, 20, 9, 0), rome(2026, 12, 2, 8, 30))
	o.lateRound(r2, rome(2026, 11, 24, 9, 0), rome(2026, 12, 9, 8, 30))
	o.lateRound(r3, rome(2026, 11, 27, 9, 0), rome(2026, 12, 15, 8, 30))
	o.lateRound(r1, rome(2026, 12, 16, 9, 0), rome(2026, 12, 22, 8, 30))
	// A question forwarded to the region (D4): its notice to the Ordine is no sollecito.
	o.update(rome(2026, 12, 9, 9, 0), r2, func(ctx context.Context, tx *store.Tx, c store.Case) error {
		return tx.Transition(ctx, c, store.CaseOpen, "regione", rome(2026, 12, 9, 0, 0), time.Time{}, map[string]any{})
	})
	o.step(r2, "informa-ordine", rome(2026, 12, 10, 8, 30), true)
	return o
}

func build(t *testing.T, o *office, from, to time.Time, by, only string) *report.Compliance {
	t.Helper()
	rt, err := store.OpenReportTool(o.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var mbs []report.Mailbox
	for _, name := range []string{"gestione-credito", "anagrafica-flussi", "pec"} {
		mbs = append(mbs, report.Mailbox{Name: name, Address: boxes[name]})
	}
	c, err := report.Build(context.Background(), rt, report.Options{Office: "Ferrara", From: from, To: to, By: by, Mailboxes: mbs,
		Only: only, Calendar: o.rules.Calendar, RepeatedDelays: o.rules.Deadlines.RepeatedDelays, Generated: rome(2026, 12, 21, 9, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// want is what a test checks of one mailbox's period (the reply times
// sorted).
type want struct {
	recv, prot, fup, ref, ign, quar, inTime, late, open, overdue, soll, esc, flagged int
	refusedBy                                                                        map[string]int
	days                                                                             []int
}

func check(t *testing.T, what string, f report.Figures, w want) {
	t.Helper()
	got := want{f.Received, f.Protocolled, f.FollowUps, f.Refused, f.Ignored, f.Quarantined, f.InTime, f.Late, f.Open, f.Overdue,
		f.Solleciti, f.Escalations, f.Flagged, nonzero(f.RefusedBy), sortedInts(f.ReplyDays)}
	if w.refusedBy == nil {
		w.refusedBy = map[string]int{}
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

// TestCompliance_weeks: every figure of each mailbox, week by week.
func TestCompliance_weeks(t *testing.T) {
	o := scenario(t)
	c := build(t, o, rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0), "", "")
	if c.By != report.ByWeek || len(c.Periods) != 3 || c.Periods[0].Label != "2026-W49" || c.Periods[2].Label != "2026-W51" {
		t.Fatalf("periods = %s %+v", c.By, c.Periods)
	}
	if names := []string{c.Mailboxes[0].Name, c.Mailboxes[1].Name, c.Mailboxes[2].Name}; len(c.Mailboxes) != 3 || names[0] != "gestione-credito" {
		t.Fatalf("mailboxes = %+v", c.Mailboxes)
	}
	gc, af := c.Rows[0], c.Rows[1]
	check(t, "gestione-credito W49", gc[0], want{recv: 6, prot: 4, ref: 1, ign: 1, inTime: 1, open: 3,
		refusedBy: map[string]int{"missing-gestione": 1}, days: []int{4}})
	check(t, "gestione-credito W50", gc[1], want{recv: 4, prot: 1, fup: 1, ref: 2, inTime: 1, open: 2,
		refusedBy: map[string]int{"missing-gestione": 1, "missing-summary": 1, "invalid-codice-fiscale": 1}, days: []int{2}})
	check(t, "gestione-credito W51", gc[2], want{recv: 2, prot: 1, quar: 1, inTime: 1, late: 1, open: 1, overdue: 1, soll: 1,
		days: []int{4, 11}})
	check(t, "anagrafica-flussi W49", af[0], want{recv: 1, prot: 1, inTime: 1, open: 2, overdue: 1, soll: 1, days: []int{5}})
	check(t, "anagrafica-flussi W50", af[1], want{recv: 1, prot: 1, open: 3, overdue: 1, esc: 1})
	check(t, "anagrafica-flussi W51", af[2], want{recv: 1, prot: 1, inTime: 2, open: 2, overdue: 1, days: []int{0, 10}})
	if f := c.Rows[2][1]; f.Solleciti != 0 || f.Escalations != 0 {
		t.Errorf("pec W50: the region ladder's notice counted: %d solleciti, %d escalations", f.Solleciti, f.Escalations)
	}
	if got := c.Rows[2][2].Flagged; got != 1 {
		t.Errorf("pec W51 flagged = %d, want 1 (the third late round fell due on 15 Dec)", got)
	}
	check(t, "gestione-credito total", c.MailboxTotal(0), want{recv: 12, prot: 6, fup: 1, ref: 3, ign: 1, quar: 1, inTime: 3,
		late: 1, open: 1, overdue: 1, soll: 1, days: []int{2, 4, 4, 11},
		refusedBy: map[string]int{"missing-gestione": 2, "missing-summary": 1, "invalid-codice-fiscale": 1}})
}

// TestCompliance_replyTimes: median and 90th percentile in working days.
func TestCompliance_replyTimes(t *testing.T) {
	c := build(t, scenario(t), rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0), report.ByWeek, "")
	for _, tc := range []struct {
		what   string
		f      report.Figures
		median float64
		p90    int
	}{
		{"gestione-credito W51 (4, 11)", c.Rows[0][2], 7.5, 11},
		{"gestione-credito total (2, 4, 4, 11)", c.MailboxTotal(0), 4, 11},
		{"anagrafica-flussi total (0, 5, 10)", c.MailboxTotal(1), 5, 10},
		{"all (0, 2, 4, 4, 5, 10, 11)", c.Total(), 4, 11},
		{"anagrafica-flussi W51 (0, 10)", c.Rows[1][2], 5, 10},
	} {
		m, ok := tc.f.Median()
		p, _ := tc.f.P90()
		if !ok || m != tc.median || p != tc.p90 {
			t.Errorf("%s: median %v, p90 %d; want %v, %d", tc.what, m, p, tc.median, tc.p90)
		}
	}
	if _, ok := c.Rows[1][1].Median(); ok {
		t.Error("a period without answers has a median")
	}
}

// TestCompliance_flagged: senders flagged at the span's end, case
// insensitive, counting only the late rounds up to it; the same rounds as
// CaseTool.SenderDelays counts over all time.
func TestCompliance_flagged(t *testing.T) {
	o := scenario(t)
	c := build(t, o, rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0), "", "")
	if len(c.Flagged) != 1 || c.Flagged[0].Delays != 3 || c.Flagged[0].Since.Format(time.DateOnly) != "2026-12-15" ||
		!reflect.DeepEqual(c.Flagged[0].Mailboxes, []string{"pec"}) {
		t.Errorf("flagged = %+v", c.Flagged)
	}
	ct, err := store.OpenCaseTool(o.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Close()
	if n, err := ct.SenderDelays(context.Background(), "ritardatario@studio.it"); n != 4 || err != nil {
		t.Errorf("SenderDelays = %d, %v; want 4 (the fourth after the span)", n, err)
	}
	if c := build(t, o, rome(2026, 11, 30, 0, 0), rome(2026, 12, 14, 0, 0), "", ""); len(c.Flagged) != 0 {
		t.Errorf("flagged before the third late round = %+v", c.Flagged)
	}
}

// TestCompliance_months: a long span is cut into months, the first and
// last cut to the span; a mailbox filter keeps one mailbox.
func TestCompliance_months(t *testing.T) {
	o := scenario(t)
	c := build(t, o, rome(2026, 9, 15, 0, 0), rome(2026, 12, 20, 0, 0), "", "anagrafica-flussi")
	if c.By != report.ByMonth || len(c.Periods) != 4 || c.Periods[0].First.Format(time.DateOnly) != "2026-09-15" ||
		c.Periods[3].Label != "2026-12" || c.Periods[3].Last.Format(time.DateOnly) != "2026-12-20" {
		t.Fatalf("periods = %s %+v", c.By, c.Periods)
	}
	if len(c.Mailboxes) != 1 || c.Mailboxes[0].Name != "anagrafica-flussi" || len(c.Flagged) != 0 {
		t.Fatalf("mailboxes = %+v, flagged %+v", c.Mailboxes, c.Flagged)
	}
	check(t, "anagrafica-flussi 2026-11", c.Rows[0][2], want{recv: 3, prot: 3, open: 3, overdue: 1})
	check(t, "anagrafica-flussi 2026-12", c.Rows[0][3], want{recv: 2, prot: 2, inTime: 3, open: 2, overdue: 1, soll: 1, esc: 1,
		days: []int{0, 5, 10}})
}

// TestCompliance_annulments: counted by the mailbox of the protocolled
// message, in the period of their time.
func TestCompliance_annulments(t *testing.T) {
	o := scenario(t)
	from, to := rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0)
	o.annul("INPS.FE.2026.0000001", rome(2026, 12, 10, 10, 0)) // gestione-credito's first
	o.annul("INPS.FE.2026.0000002", rome(2026, 12, 21, 0, 0))  // after the span
	c := build(t, o, from, to, "", "")
	if c.Rows[0][1].Annulments != 1 || c.MailboxTotal(0).Annulments != 1 || c.Total().Annulments != 1 {
		t.Errorf("annulments: gestione-credito W50 %d, its total %d, all %d; want 1, 1, 1",
			c.Rows[0][1].Annulments, c.MailboxTotal(0).Annulments, c.Total().Annulments)
	}
}

func nonzero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func sortedInts(v []int) []int {
	out := append([]int{}, v...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// TestDefaultBy: more than 62 days are reported by month, counted by
// dates across the end of daylight saving time (25 October 2026).
func TestDefaultBy(t *testing.T) {
	for _, tc := range []struct {
		to   time.Time
		want string
	}{
		{rome(2026, 11, 1, 0, 0), report.ByWeek}, // 1 Sep – 1 Nov: 62 days
		{rome(2026, 11, 2, 0, 0), report.ByMonth},
	} {
		if got := report.DefaultBy(rome(2026, 9, 1, 0, 0), tc.to); got != tc.want {
			t.Errorf("DefaultBy(2026-09-01, %s) = %s, want %s", tc.to.Format(time.DateOnly), got, tc.want)
		}
	}
	if n := report.Days(rome(2026, 10, 24, 0, 0), rome(2026, 10, 26, 23, 59)); n != 3 {
		t.Errorf("Days(24 Oct, 26 Oct) = %d, want 3", n)
	}
}

// TestCompliance_shadowRegister: once protocols carry their register (the
// register's migration), a number of shadow mode's register is received,
// not protocolled, and no follow-up.
func TestCompliance_shadowRegister(t *testing.T) {
	o := scenario(t)
	o.shadowNumber("gestione-credito", rome(2026, 12, 2, 9, 0))
	c := build(t, o, rome(2026, 11, 30, 0, 0), rome(2026, 12, 20, 0, 0), "", "")
	if got := c.Rows[0][0]; got.Received != 7 || got.Protocolled != 4 || got.FollowUps != 0 {
		t.Errorf("gestione-credito W49: %d received, %d protocolled, %d follow-ups; want 7, 4, 0", got.Received, got.Protocolled,
			got.FollowUps)
	}
}
